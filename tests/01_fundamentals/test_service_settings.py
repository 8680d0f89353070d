"""01.9 Typed service settings from the environment (capstone piece)."""

import dataclasses

import pytest

from journey.targets import load

service_settings = load(__file__, "service_settings")
ServiceSettings = service_settings.ServiceSettings
SettingsError = service_settings.SettingsError

DB = "postgresql+psycopg://app:s3cret@127.0.0.1:5432/shop_orders"


def from_env(env: dict[str, str], **kwargs: object) -> "service_settings.ServiceSettings":
    return ServiceSettings.from_env("orders", env, **kwargs)


def test_defaults_with_only_the_required_variable() -> None:
    got = from_env({"DATABASE_URL": DB})
    assert got == ServiceSettings(
        service="orders",
        database_url=DB,
        host="127.0.0.1",
        port=8000,
        log_level="INFO",
        redis_url="redis://127.0.0.1:6379/0",
    ), "every other variable has a default"


def test_reads_every_variable() -> None:
    env = {
        "DATABASE_URL": DB,
        "SERVICE_HOST": "0.0.0.0",
        "SERVICE_PORT": "8002",
        "LOG_LEVEL": "debug",
        "REDIS_URL": "rediss://cache.internal:6380/1",
        "UNRELATED": "ignored",
    }
    got = from_env(env)
    assert (got.host, got.port, got.log_level, got.redis_url) == (
        "0.0.0.0",
        8002,
        "DEBUG",
        "rediss://cache.internal:6380/1",
    ), "SERVICE_PORT becomes an int and LOG_LEVEL is upper-cased"
    assert got.base_url == "http://0.0.0.0:8002"


@pytest.mark.parametrize("port", ["1", "65535"])
def test_port_range_includes_both_ends(port: str) -> None:
    got = from_env({"DATABASE_URL": DB, "SERVICE_PORT": port})
    assert got.port == int(port), "1 and 65535 are valid ports: the range includes both ends"


def test_default_port_is_per_service() -> None:
    assert from_env({"DATABASE_URL": DB}, default_port=8002).port == 8002


def test_values_are_stripped_and_empty_means_unset() -> None:
    got = from_env({"DATABASE_URL": f"  {DB} ", "SERVICE_PORT": " 9000 ", "LOG_LEVEL": ""})
    assert (got.database_url, got.port, got.log_level) == (DB, 9000, "INFO"), (
        "whitespace is stripped; LOG_LEVEL='' falls back to the default"
    )
    blank = from_env({"DATABASE_URL": DB, "SERVICE_PORT": "", "SERVICE_HOST": "  "})
    assert (blank.port, blank.host) == (8000, "127.0.0.1"), (
        "SERVICE_PORT= and SERVICE_HOST='  ' in a compose file mean unset: the defaults apply"
    )


def test_reads_os_environ_when_no_mapping_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", DB)
    monkeypatch.setenv("SERVICE_PORT", "8123")
    assert ServiceSettings.from_env("orders").port == 8123, "env=None means os.environ"


def test_settings_are_frozen() -> None:
    settings = from_env({"DATABASE_URL": DB})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.port = 1  # type: ignore[misc]


def test_missing_database_url_says_what_to_do() -> None:
    with pytest.raises(SettingsError) as caught:
        from_env({})
    error = caught.value
    assert list(error.problems) == ["DATABASE_URL"], "problems are keyed by variable name"
    assert "required" in error.problems["DATABASE_URL"]
    assert "shop_orders" in error.problems["DATABASE_URL"], "the hint shows an example URL"
    assert "DATABASE_URL" in str(error), "the message names the variable"
    assert "orders" in str(error), "the message names the service"
    assert isinstance(error, ValueError), "SettingsError is a ValueError"


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("SERVICE_PORT", "http", ["whole number", "65535"]),
        ("SERVICE_PORT", "0", ["65535"]),
        ("SERVICE_PORT", "70000", ["65535", "70000"]),
        ("LOG_LEVEL", "verbose", ["DEBUG", "INFO", "VERBOSE"]),
        ("DATABASE_URL", "mysql://root@db/shop", ["postgresql"]),
        ("DATABASE_URL", "postgresql://db:5432/", ["dbname"]),
        ("REDIS_URL", "http://cache:6379", ["redis://"]),
        ("SERVICE_HOST", "my host", ["host"]),
    ],
)
def test_each_bad_variable_is_named_with_what_to_do(
    variable: str, value: str, words: list[str]
) -> None:
    env = {"DATABASE_URL": DB, variable: value}
    with pytest.raises(SettingsError) as caught:
        from_env(env)
    problems = caught.value.problems
    assert list(problems) == [variable], f"only {variable} is wrong"
    for word in words:
        assert word in problems[variable], f"the message for {variable} mentions {word!r}"
    assert variable in str(caught.value), "the error message names the variable"


def test_every_problem_is_reported_at_once() -> None:
    env = {"SERVICE_PORT": "-1", "LOG_LEVEL": "loud", "REDIS_URL": "memcached://x"}
    with pytest.raises(SettingsError) as caught:
        from_env(env)
    assert set(caught.value.problems) == {"DATABASE_URL", "SERVICE_PORT", "LOG_LEVEL", "REDIS_URL"}
    message = str(caught.value)
    assert all(name in message for name in caught.value.problems), "one message lists them all"


def test_errors_never_show_a_password() -> None:
    with pytest.raises(SettingsError) as caught:
        from_env({"DATABASE_URL": "mysql://root:hunter2@db/shop"})
    assert "hunter2" not in str(caught.value), "a secret must not end up in logs"
    assert "***" in str(caught.value)


def test_repr_and_as_dict_hide_passwords() -> None:
    settings = from_env({"DATABASE_URL": DB, "REDIS_URL": "redis://:pw123@cache:6379/0"})
    assert "s3cret" not in repr(settings), "repr() must not show the database password"
    assert "pw123" not in repr(settings), "repr() must not show the Redis password"
    assert settings.as_dict() == {
        "service": "orders",
        "database_url": "postgresql+psycopg://app:***@127.0.0.1:5432/shop_orders",
        "host": "127.0.0.1",
        "port": 8000,
        "log_level": "INFO",
        "redis_url": "redis://:***@cache:6379/0",
    }
    assert settings.database_url == DB, "the real value stays available to the code"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://app:s3cret@db:5432/shop", "postgresql://app:***@db:5432/shop"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://user@cache/0", "redis://user@cache/0"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert service_settings.redact_url(url) == expected


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(SettingsError) as caught:
        ServiceSettings(service="orders", database_url=DB, port=0)
    assert list(caught.value.problems) == ["SERVICE_PORT"], (
        "a value object guards its rules however it is built"
    )


@pytest.mark.parametrize("service", ["Orders", "", "orders service", "1st"])
def test_service_name_must_be_lowercase(service: str) -> None:
    with pytest.raises(ValueError, match="service"):
        ServiceSettings.from_env(service, {"DATABASE_URL": DB})
