"""10.1 Twelve-factor settings from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from journey.targets import load

tf = load(__file__, "twelve_factor")

JWT = "j" * 32  # the shortest secret that is long enough
DB = "postgresql://shop:s3cret-pw@db:5432/shop"


def _env(**overrides: str) -> dict[str, str]:
    return {"DATABASE_URL": DB, "JWT_SECRET": JWT, **overrides}


def _problems(env: dict[str, str], secrets_dir: Path) -> list[str]:
    with pytest.raises(tf.ConfigError) as caught:
        tf.load_settings(env, secrets_dir=secrets_dir)
    return caught.value.problems


def test_secret_names() -> None:
    for name in (
        "JWT_SECRET",
        "POSTGRES_PASSWORD",
        "GITHUB_TOKEN",
        "apiKey",
        "PRIVATE_KEY",
        "db-passwd",
        "AWS_CREDENTIALS",
        "dbPassword",
        "secret",
    ):
        assert tf.is_secret_name(name), f"{name} names a secret (see the docstring's words)"
    for name in (
        "PORT",
        "LOG_LEVEL",
        "KEY_ID",
        "MONKEY",
        "SECRETS_DIR",
        "DATABASE_URL",
        "",
        "PWD",
        "TOKENIZER",
    ):
        assert not tf.is_secret_name(name), (
            f"{name!r} is not a secret name: only whole words count (KEY only as the last one)"
        )


def test_password_in_url() -> None:
    assert tf.password_in_url(DB) == "s3cret-pw"
    assert tf.password_in_url("redis://:pw@cache:6379/0") == "pw", "a password without a user"
    assert tf.password_in_url("amqp://guest:${RABBIT_PASSWORD}@mq/") == "${RABBIT_PASSWORD}"
    for value in (
        "postgresql://shop@db/shop",
        "redis://cache:6379/0",
        "hunter2",
        "",
        "http://[::1/broken",
    ):
        assert tf.password_in_url(value) is None, f"{value!r} carries no password"


def test_defaults_fill_what_is_not_set(tmp_path: Path) -> None:
    settings = tf.load_settings(_env(), secrets_dir=tmp_path)
    assert settings.environment == "development"
    assert settings.port == 8000
    assert settings.log_level == "INFO"
    assert settings.debug is False
    assert settings.redis_url == "redis://localhost:6379/0"
    assert settings.database_url.reveal() == DB
    assert settings.jwt_secret.reveal() == JWT


def test_values_are_parsed_and_normalised(tmp_path: Path) -> None:
    env = _env(
        APP_ENV="production",
        PORT=" 8080 ",
        LOG_LEVEL="warning",
        DEBUG="Off",
        REDIS_URL="redis://cache:6379/1",
    )
    settings = tf.load_settings(env, secrets_dir=tmp_path)
    assert (settings.environment, settings.port, settings.log_level, settings.debug) == (
        "production",
        8080,
        "WARNING",
        False,
    ), "PORT is an int, LOG_LEVEL upper-case, DEBUG a bool"
    assert settings.redis_url == "redis://cache:6379/1"


def test_an_empty_variable_counts_as_unset(tmp_path: Path) -> None:
    settings = tf.load_settings(_env(PORT="", LOG_LEVEL="", DEBUG=""), secrets_dir=tmp_path)
    assert (settings.port, settings.log_level, settings.debug) == (8000, "INFO", False)


@pytest.mark.parametrize(
    ("port", "ok"),
    [("1", True), ("65535", True), ("0", False), ("65536", False), ("80a", False), ("-1", False)],
)
def test_port_range(port: str, ok: bool, tmp_path: Path) -> None:
    if ok:
        assert tf.load_settings(_env(PORT=port), secrets_dir=tmp_path).port == int(port)
    else:
        problems = _problems(_env(PORT=port), tmp_path)
        assert any("PORT" in p for p in problems), f"PORT={port!r} is refused, naming PORT"


def test_parse_bool() -> None:
    for word in ("1", "true", "TRUE", "yes", "On", " on "):
        assert tf.parse_bool("DEBUG", word) is True, word
    for word in ("0", "false", "No", "off"):
        assert tf.parse_bool("DEBUG", word) is False, word
    with pytest.raises(tf.ConfigError, match="DEBUG"):
        tf.parse_bool("DEBUG", "maybe")


def test_every_problem_is_reported_at_once_without_secret_values(tmp_path: Path) -> None:
    env = {
        "PORT": "http",
        "LOG_LEVEL": "LOUD",
        "DEBUG": "perhaps",
        "JWT_SECRET": "short-s3cret",
        "APP_ENV": "staging",
    }
    with pytest.raises(tf.ConfigError) as caught:
        tf.load_settings(env, secrets_dir=tmp_path)
    problems = caught.value.problems
    for variable in ("PORT", "LOG_LEVEL", "DEBUG", "DATABASE_URL", "JWT_SECRET", "APP_ENV"):
        assert any(variable in p for p in problems), (
            f"one ConfigError lists every problem: nothing about {variable} in {problems}"
        )
    assert isinstance(caught.value, ValueError), "ConfigError is a ValueError"
    assert "short-s3cret" not in str(caught.value), "a message never shows a secret's value"


def test_jwt_secret_length_boundary(tmp_path: Path) -> None:
    assert tf.load_settings(_env(JWT_SECRET="x" * 32), secrets_dir=tmp_path)
    problems = _problems(_env(JWT_SECRET="x" * 31), tmp_path)
    assert any("JWT_SECRET" in p for p in problems), "31 characters are too few (32 needed)"


def test_secret_from_a_file_named_by_name_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "jwt.txt"
    secret_file.write_text(JWT + "\n")  # echo adds a newline
    env = {"DATABASE_URL": DB, "JWT_SECRET_FILE": str(secret_file)}
    settings = tf.load_settings(env, secrets_dir=tmp_path / "none")
    assert settings.jwt_secret.reveal() == JWT, "the file's trailing newline is not the secret"


def test_secret_from_the_mounted_secrets_folder(tmp_path: Path) -> None:
    (tmp_path / "jwt_secret").write_text(JWT)
    (tmp_path / "database_url").write_text(DB + "\r\n")
    settings = tf.load_settings({}, secrets_dir=tmp_path)
    assert settings.jwt_secret.reveal() == JWT, "secrets_dir / 'jwt_secret' holds JWT_SECRET"
    assert settings.database_url.reveal() == DB


def test_secret_sources_in_conflict_or_missing(tmp_path: Path) -> None:
    secret_file = tmp_path / "jwt.txt"
    secret_file.write_text(JWT)
    with pytest.raises(tf.ConfigError, match="not both"):
        tf.read_secret(
            {"JWT_SECRET": JWT, "JWT_SECRET_FILE": str(secret_file)},
            "JWT_SECRET",
            secrets_dir=tmp_path,
        )
    missing = tmp_path / "nope.txt"
    with pytest.raises(tf.ConfigError) as caught:
        tf.read_secret({"JWT_SECRET_FILE": str(missing)}, "JWT_SECRET", secrets_dir=tmp_path)
    assert "JWT_SECRET_FILE" in str(caught.value)
    assert str(missing) in str(caught.value)
    assert tf.read_secret({}, "JWT_SECRET", secrets_dir=tmp_path) is None
    assert (
        tf.read_secret(
            {"JWT_SECRET": "", "JWT_SECRET_FILE": str(secret_file)},
            "JWT_SECRET",
            secrets_dir=tmp_path,
        )
        == JWT
    ), "an empty JWT_SECRET counts as unset"


def test_secrets_never_print(tmp_path: Path) -> None:
    settings = tf.load_settings(_env(), secrets_dir=tmp_path)
    shown = repr(settings) + str(settings.jwt_secret) + f"{settings.database_url}"
    assert JWT not in shown, "repr and str hide a Secret's value"
    assert "s3cret-pw" not in shown, "repr and str hide a Secret's value"
    assert repr(tf.Secret("x")) == "Secret('**********')"
    assert tf.Secret("a") == tf.Secret("a")
    assert tf.Secret("a") != tf.Secret("b")


def test_production_refuses_debug_and_dev_only_secrets(tmp_path: Path) -> None:
    dev_jwt = "dev-only-" + "x" * 32
    dev_db = "postgresql://shop:dev-only-pw@db/shop"
    problems = _problems(
        _env(APP_ENV="production", DEBUG="1", JWT_SECRET=dev_jwt, DATABASE_URL=dev_db), tmp_path
    )
    for variable in ("DEBUG", "JWT_SECRET", "DATABASE_URL"):
        assert any(variable in p for p in problems), (
            f"production refuses debug and dev-only secrets: nothing about {variable}"
        )
    settings = tf.load_settings(
        _env(DEBUG="1", JWT_SECRET=dev_jwt, DATABASE_URL=dev_db), secrets_dir=tmp_path
    )
    assert settings.debug is True, "development allows both"
