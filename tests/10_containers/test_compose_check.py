"""10.5 A compose validator: stage 1, the Compose Specification's schema; stage 2, the rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from journey.targets import load

compose = load(__file__, "compose_check")

# A compose file that keeps every rule; each test breaks one thing in a copy of it.
GOOD = """\
name: shop
x-app: &app
  build: {context: .., dockerfile: Dockerfile}
  image: shop:dev
  restart: unless-stopped
  healthcheck:
    test: ["CMD", "python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/health/ready')"]
    interval: 10s
services:
  migrate:
    <<: *app
    restart: "no"
    healthcheck: {disable: true}
    command: ["python", "-m", "app", "migrate"]
    environment:
      DATABASE_URL: postgresql://shop:${POSTGRES_PASSWORD:?set it}@db:5432/shop
    depends_on:
      db: {condition: service_healthy}
  api:
    <<: *app
    command: ["python", "-m", "app", "serve"]
    ports: ["8000:8000"]
    environment:
      DATABASE_URL: postgresql://shop:${POSTGRES_PASSWORD:?set it}@db:5432/shop
      JWT_SECRET: ${JWT_SECRET:-dev-only-not-for-production}
      API_TOKEN:
      LOG_LEVEL: INFO
    secrets: [signing_key]
    depends_on:
      migrate: {condition: service_completed_successfully}
      db: {condition: service_healthy}
      cache: {condition: service_healthy}
  db:
    image: postgres:16.6-alpine
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set it}
    volumes:
      - pgdata:/var/lib/postgresql/data
      - ./init.sql:/docker-entrypoint-initdb.d/init.sql:ro
    healthcheck:
      test: ["CMD", "pg_isready", "-U", "shop"]
  cache:
    image: redis:7.4-alpine
    volumes:
      - type: volume
        source: cachedata
        target: /data
    healthcheck: {test: ["CMD", "redis-cli", "ping"]}
  db-debug:
    image: postgres:16.6-alpine
    profiles: [debug]
    ports: ["127.0.0.1:5433:5432"]
    healthcheck: {test: ["CMD", "pg_isready"]}
volumes:
  pgdata:
  cachedata:
secrets:
  signing_key: {environment: SIGNING_KEY}
"""


@pytest.fixture
def good() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(GOOD)  # parsed here, not by the exercise: each test gets a fresh copy


def _rules(document: dict[str, Any], rule: str) -> list[str]:
    return [f.path for f in compose.check_compose(document) if f.rule == rule]


# -- loading and stage 1: the schema ------------------------------------------------------------


def test_load_compose_resolves_anchors_and_merge_keys() -> None:
    document = compose.load_compose(GOOD)
    api = document["services"]["api"]
    merged = (api["image"], api["restart"])
    assert merged == ("shop:dev", "unless-stopped"), "<<: *app merges the anchor's keys in"
    assert api["command"] == ["python", "-m", "app", "serve"], "the service's own keys win"


def test_load_compose_refuses_what_is_not_a_mapping() -> None:
    with pytest.raises(compose.ComposeError, match="mapping"):
        compose.load_compose("- just\n- a list\n")
    with pytest.raises(compose.ComposeError) as caught:
        compose.load_compose("services:\n  api: {image: x\n")
    assert "line" in str(caught.value), "a YAML error says where it is"
    assert isinstance(caught.value, ValueError)


def test_a_good_file_has_no_findings(good: dict[str, Any]) -> None:
    assert compose.schema_findings(good) == [], "the good file is valid Compose"
    found = compose.check_compose(good)
    assert found == [], f"the good file keeps every rule, but got: {found}"


def test_schema_finds_an_unknown_key_and_a_wrong_type(good: dict[str, Any]) -> None:
    good["services"]["api"]["helthcheck"] = good["services"]["api"].pop("healthcheck")
    good["services"]["cache"]["healthcheck"]["interval"] = 10  # a duration is a string: "10s"
    found = compose.schema_findings(good)
    assert [f.rule for f in found] == ["schema", "schema"]
    assert [f.path for f in found] == ["services.api", "services.cache.healthcheck.interval"], (
        "paths are the dotted absolute_path of each error, sorted"
    )
    assert "helthcheck" in found[0].message


def test_schema_reports_the_deepest_error_of_a_one_of(good: dict[str, Any]) -> None:
    good["services"]["api"]["depends_on"]["db"]["condition"] = "service_ready"
    found = compose.schema_findings(good)
    assert [f.path for f in found] == ["services.api.depends_on.db.condition"], (
        "depends_on is a oneOf (list or mapping): report the error deep inside it, not "
        "'is not valid under any of the given schemas' about the whole mapping"
    )
    assert "service_ready" in found[0].message


def test_schema_findings_come_first_and_alone(good: dict[str, Any]) -> None:
    good["top_level_typo"] = 1
    del good["services"]["cache"]["healthcheck"]  # a rule breaks too
    found = compose.check_compose(good)
    assert [f.rule for f in found] == ["schema"], "an invalid file gets only schema findings"
    assert found[0].path == ""


# -- stage 2: the rules -------------------------------------------------------------------------


def test_dependencies_read_both_forms(good: dict[str, Any]) -> None:
    assert compose.dependencies({"depends_on": ["db", "cache"]}) == {"db": None, "cache": None}
    assert compose.dependencies({"depends_on": {"db": {"restart": True}}}) == {
        "db": "service_started"
    }, "a mapping entry without condition means service_started"
    assert compose.dependencies({}) == {}
    assert compose.one_shot_jobs(good) == {"migrate"}


def test_environment_reads_both_forms() -> None:
    assert compose.environment({"environment": ["A=1", "B", "C=x=y"]}) == {
        "A": "1",
        "B": None,
        "C": "x=y",
    }
    assert compose.environment({"environment": {"A": 1, "B": None}}) == {"A": "1", "B": None}


def test_a_server_without_healthcheck_is_found(good: dict[str, Any]) -> None:
    del good["services"]["cache"]["healthcheck"]
    good["services"]["db-debug"]["healthcheck"] = {"test": ["NONE"]}
    assert _rules(good, "healthcheck") == ["services.cache", "services.db-debug"]
    assert compose.has_healthcheck({"healthcheck": {"test": "pg_isready", "disable": False}})


def test_a_one_shot_job_needs_no_healthcheck(good: dict[str, Any]) -> None:
    del good["services"]["migrate"]["healthcheck"]
    assert _rules(good, "healthcheck") == []


@pytest.mark.parametrize(
    "depends",
    [
        ["db"],
        {"db": {"condition": "service_started"}},
        {"db": {"condition": "service_started", "restart": True}},
    ],
)
def test_a_dependency_that_does_not_wait_for_ready(good: dict[str, Any], depends: Any) -> None:
    good["services"]["migrate"]["depends_on"] = depends
    assert _rules(good, "depends-on") == ["services.migrate.depends_on.db"], (
        f"depends_on {depends} waits only until the container has started"
    )


def test_waiting_for_health_needs_a_healthcheck(good: dict[str, Any]) -> None:
    good["services"]["cache"]["healthcheck"] = {"disable": True}
    assert "services.api.depends_on.cache" in _rules(good, "depends-on"), (
        "service_healthy on a service without a healthcheck waits for ever"
    )


def test_a_dependency_on_no_such_service(good: dict[str, Any]) -> None:
    good["services"]["api"]["depends_on"]["broker"] = {"condition": "service_healthy"}
    found = [f for f in compose.check_compose(good) if f.rule == "depends-on"]
    assert [f.path for f in found] == ["services.api.depends_on.broker"]
    assert "no such service" in found[0].message


@pytest.mark.parametrize(
    ("policy", "found"),
    [("always", True), ("unless-stopped", True), ("on-failure", False), ("no", False)],
)
def test_a_one_shot_job_that_restarts(good: dict[str, Any], policy: str, found: bool) -> None:
    good["services"]["migrate"]["restart"] = policy
    assert _rules(good, "one-shot") == (["services.migrate.restart"] if found else [])


@pytest.mark.parametrize(
    ("dependant", "target", "broken"),
    [
        (None, ["debug"], True),  # always started, but its dependency only with debug
        (["debug", "tools"], ["debug"], True),  # --profile tools starts it without its target
        (["debug"], ["debug", "tools"], False),
        (["debug"], None, False),
        (["tools", "debug"], ["debug", "tools"], False),
    ],
)
def test_profiles_of_a_dependency(
    good: dict[str, Any], dependant: list[str] | None, target: list[str] | None, broken: bool
) -> None:
    services = good["services"]
    for name, value in (("api", dependant), ("cache", target)):
        services[name].pop("profiles", None)
        if value:
            services[name]["profiles"] = value
    expected = ["services.api.depends_on.cache"] if broken else []
    assert _rules(good, "profiles") == expected, (
        f"api with profiles {dependant} depends on cache with profiles {target}"
    )


def test_a_published_database_port_in_production(good: dict[str, Any]) -> None:
    good["services"]["cache"]["ports"] = ["6379:6379"]
    debug = good["services"]["db-debug"]
    debug["profiles"] = ["debug", "ops"]  # "ops" is not a development profile
    assert _rules(good, "ports") == ["services.cache.ports", "services.db-debug.ports"]
    assert compose.is_production({})
    assert not compose.is_production({"profiles": ["dev"]})


def test_a_published_application_port_is_fine(good: dict[str, Any]) -> None:
    good["services"]["api"]["ports"] = ["8000:8000", "9100:9100"]
    assert _rules(good, "ports") == []


@pytest.mark.parametrize(
    ("service", "key", "value"),
    [
        ("api", "JWT_SECRET", "hunter2"),
        ("api", "JWT_SECRET", "${JWT_SECRET:-changeme}"),
        ("api", "JWT_SECRET", "${JWT_SECRET-changeme}"),
        ("api", "JWT_SECRET", "prefix-${JWT_SECRET}"),
        ("api", "DATABASE_URL", "postgresql://shop:pw@db:5432/shop"),
        ("api", "DATABASE_URL", "postgresql://shop:${PW:-secret}@db:5432/shop"),
        ("db", "POSTGRES_PASSWORD", "postgres"),
    ],
)
def test_a_secret_written_in_the_file(
    good: dict[str, Any], service: str, key: str, value: str
) -> None:
    good["services"][service]["environment"][key] = value
    assert _rules(good, "secrets") == [f"services.{service}.environment.{key}"], (
        f"{key}: {value} writes a secret in the file"
    )


def test_secrets_read_from_the_environment_pass(good: dict[str, Any]) -> None:
    env = good["services"]["api"]["environment"]
    for value in ("${JWT_SECRET}", "$JWT_SECRET", "${JWT_SECRET?set it}", "${X:-dev-only-x}"):
        env["JWT_SECRET"] = value
        assert _rules(good, "secrets") == [], f"JWT_SECRET: {value} is read from the environment"
    good["services"]["api"]["environment"] = ["API_KEY", "LOG_LEVEL=INFO"]
    assert _rules(good, "secrets") == [], "a variable with no value is taken from the host"
    good["services"]["api"]["environment"] = ["API_KEY=abc"]
    assert _rules(good, "secrets") == ["services.api.environment.API_KEY"], "list form too"


@pytest.mark.parametrize("image", ["redis", "redis:latest"])
def test_an_unpinned_image(good: dict[str, Any], image: str) -> None:
    good["services"]["cache"]["image"] = image
    assert _rules(good, "images") == ["services.cache.image"]


def test_built_images_and_tagged_images_pass(good: dict[str, Any]) -> None:
    good["services"]["api"]["image"] = "shop"  # built here: compose names what it builds
    assert _rules(good, "images") == []
    del good["services"]["cache"]["image"]
    assert _rules(good, "images") == ["services.cache.image"], "neither image nor build"


def test_an_undeclared_named_volume(good: dict[str, Any]) -> None:
    del good["volumes"]["pgdata"]
    del good["volumes"]["cachedata"]
    assert _rules(good, "volumes") == ["services.cache.volumes.0", "services.db.volumes.0"], (
        "named volumes (short and long syntax) must be declared; ./init.sql is a bind mount"
    )


def test_bind_mounts_and_anonymous_volumes_need_no_declaration(good: dict[str, Any]) -> None:
    good["services"]["api"]["volumes"] = [
        "/var/run/x:/x",
        "~/.cache:/c",
        "/data",
        "${PWD}/src:/src",
        {"type": "bind", "source": "./s", "target": "/s"},
    ]
    assert _rules(good, "volumes") == []


def test_check_compose_leaves_its_input_alone(good: dict[str, Any]) -> None:
    before = copy.deepcopy(good)
    compose.check_compose(good)
    assert good == before
