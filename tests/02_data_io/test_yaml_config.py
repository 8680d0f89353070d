"""02.3 — A YAML config with defaults and validation."""

from __future__ import annotations

import textwrap

import pytest

from journey.targets import load

yaml_config = load(__file__, "yaml_config")


def parse(text: str):
    return yaml_config.parse_config(textwrap.dedent(text))


def problems_of(text: str) -> list[str]:
    with pytest.raises(yaml_config.ConfigError) as caught:
        parse(text)
    return caught.value.problems


def test_minimal_config_gets_every_default():
    config = parse("name: shop\n")
    assert config == yaml_config.AppConfig(name="shop"), "keys not given keep their defaults"
    assert config.database == yaml_config.DatabaseConfig()


def test_the_documented_defaults():
    config = parse("name: shop\n")
    assert (config.host, config.port, config.debug, config.log_level, config.allowed_hosts) == (
        "127.0.0.1",
        8000,
        False,
        "INFO",
        (),
    ), "host 127.0.0.1, port 8000, debug off, log level INFO, no allowed hosts"
    assert (config.database.url, config.database.pool_size) == ("sqlite:///journey.db", 5), (
        "the database defaults: sqlite:///journey.db with a pool of 5"
    )
    assert parse("name: shop\ndatabase: {}\n").database == config.database, (
        "an empty database section keeps every database default"
    )


def test_full_config_is_parsed_and_normalised():
    config = parse(
        """
        name: shop
        host: 0.0.0.0
        port: 8080
        debug: yes
        log_level: debug
        allowed_hosts: [shop.example.com, api.example.com]
        database:
          url: postgresql://localhost/shop
          pool_size: 10
        """
    )
    assert config.port == 8080
    assert config.debug is True, "YAML's yes is a bool"
    assert config.log_level == "DEBUG", "log_level is case-insensitive and stored upper-case"
    assert config.allowed_hosts == ("shop.example.com", "api.example.com"), "a tuple of hosts"
    assert config.database == yaml_config.DatabaseConfig("postgresql://localhost/shop", 10)


def test_database_section_is_merged_over_its_defaults():
    config = parse("name: shop\ndatabase:\n  pool_size: 20\n")
    assert config.database.pool_size == 20
    assert config.database.url == yaml_config.DatabaseConfig().url, (
        "a nested key that is not given keeps its default"
    )


def test_every_problem_is_reported_at_once():
    problems = problems_of(
        """
        name: shop
        prot: 8080
        port: "8080"
        log_level: loud
        database:
          pool_size: 0
          user: admin
        """
    )
    keys = {p.split(":")[0] for p in problems}
    assert keys == {"prot", "port", "log_level", "database.pool_size", "database.user"}, (
        f"each problem starts with its key's path, and all are collected: got {problems}"
    )


def test_name_is_required():
    assert [p.split(":")[0] for p in problems_of("port: 8000\n")] == ["name"]


@pytest.mark.parametrize("line", ["name: ''", "name: 42", "name: [shop]"])
def test_name_must_be_a_non_empty_string(line):
    assert [p.split(":")[0] for p in problems_of(f"{line}\n")] == ["name"], (
        f"{line!r}: a name must be a non-empty string"
    )


def test_empty_document_fails_only_for_the_missing_name():
    assert [p.split(":")[0] for p in problems_of("")] == ["name"], "an empty file is {}"


@pytest.mark.parametrize(
    "line",
    [
        "port: yes",
        "port: 70000",
        "port: 0",
        "debug: 1",
        "allowed_hosts: localhost",
        "allowed_hosts: [1, 2]",
        "host: 5",
        "database: sqlite",
    ],
)
def test_wrong_types_and_ranges_are_refused(line):
    problems = problems_of(f"name: shop\n{line}\n")
    key = line.split(":")[0]
    assert [p.split(":")[0] for p in problems] == [key], (
        f"{line!r} should give one problem about {key!r}, got {problems}"
    )


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "name: [unclosed\n"])
def test_non_mapping_or_broken_yaml_is_a_config_error(text):
    with pytest.raises(yaml_config.ConfigError):
        yaml_config.parse_config(text)


def test_hostile_python_tag_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    hostile = f"name: shop\nhost: !!python/object/apply:os.mkdir [{str(marker)!r}]\n"
    with pytest.raises(yaml_config.ConfigError):
        yaml_config.parse_config(hostile)
    assert not marker.exists(), "an unsafe loader ran os.mkdir from the file: use yaml.safe_load"


def test_load_config_reads_a_file(tmp_path):
    path = tmp_path / "app.yaml"
    path.write_text("name: café\nport: 9000\n", encoding="utf-8")
    config = yaml_config.load_config(path)
    assert (config.name, config.port) == ("café", 9000)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(yaml_config.ConfigError, match="not found"):
        yaml_config.load_config(tmp_path / "nope.yaml")
