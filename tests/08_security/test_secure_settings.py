"""08.4 Secure settings: fail fast on weak secrets, never show one."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import pytest

from journey.targets import load

settings_mod = load(__file__, "secure_settings")
JWT_SECRET = "jwt-secret-for-tests-0123456789-abcdefghijklmnop"
DB_PASSWORD = "db-password-for-tests-4242"
VARIABLES = (
    "SHOP_ENVIRONMENT",
    "SHOP_JWT_SECRET",
    "SHOP_DATABASE_PASSWORD",
    "SHOP_TOKEN_TTL_SECONDS",
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean slate: none of the SHOP_* variables set, run from an empty folder."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def good(env: pytest.MonkeyPatch) -> None:
    env.setenv("SHOP_JWT_SECRET", JWT_SECRET)
    env.setenv("SHOP_DATABASE_PASSWORD", DB_PASSWORD)


def everything_about(error: BaseException) -> str:
    """The error as a log line, a traceback and a chain of causes would show it."""
    return "".join(traceback.format_exception(error)) + repr(error) + str(error)


def test_good_settings_load_with_their_defaults(env) -> None:
    good(env)
    loaded = settings_mod.load_settings()
    assert loaded.jwt_secret.get_secret_value() == JWT_SECRET
    assert loaded.database_password.get_secret_value() == DB_PASSWORD
    assert loaded.environment == "production"
    assert loaded.token_ttl_seconds == 900
    with pytest.raises(Exception):  # noqa: B017, PT011 - pydantic's frozen-instance error
        loaded.token_ttl_seconds = 5  # type: ignore[misc]


def test_secrets_never_show_in_repr_str_or_dumps(env) -> None:
    good(env)
    loaded = settings_mod.load_settings()
    for text in (repr(loaded), str(loaded), loaded.model_dump_json(), str(loaded.model_dump())):
        for secret in (JWT_SECRET, DB_PASSWORD):
            assert secret not in text, f"a secret shows in {text[:120]!r}: make it a SecretStr"
    assert settings_mod.describe(loaded) == {
        "environment": "production",
        "jwt_secret": "**********",
        "database_password": "**********",
        "token_ttl_seconds": 900,
    }


def test_missing_secrets_stop_the_start_and_are_all_named(env) -> None:
    with pytest.raises(settings_mod.ConfigError) as caught:
        settings_mod.load_settings()
    assert caught.value.problems == {
        "SHOP_JWT_SECRET": "is required",
        "SHOP_DATABASE_PASSWORD": "is required",
    }, "every problem at once, keyed by the environment variable to fix"
    assert "SHOP_JWT_SECRET" in str(caught.value)


def test_a_short_secret_is_refused_without_being_quoted(env) -> None:
    short = "tooShortSecret-xyz"
    env.setenv("SHOP_JWT_SECRET", short)
    env.setenv("SHOP_DATABASE_PASSWORD", "pw-9")
    with pytest.raises(settings_mod.ConfigError) as caught:
        settings_mod.load_settings()
    assert caught.value.problems == {
        "SHOP_JWT_SECRET": "must be at least 32 characters long",
        "SHOP_DATABASE_PASSWORD": "must be at least 12 characters long",
    }
    text = everything_about(caught.value)
    for secret in (short, "pw-9"):
        assert secret not in text, (
            "the error (its message, its traceback, its cause and context) must not quote the "
            "secret: hide_input_in_errors=True, messages that describe it, raise ... from None"
        )


def test_the_shortest_allowed_secrets_are_fine(env) -> None:
    env.setenv("SHOP_JWT_SECRET", "j" * settings_mod.MIN_JWT_SECRET_LENGTH)
    env.setenv("SHOP_DATABASE_PASSWORD", "d" * settings_mod.MIN_DATABASE_PASSWORD_LENGTH)
    assert settings_mod.load_settings().token_ttl_seconds == 900


@pytest.mark.parametrize(
    "published",
    ["dev-only-secret-change-me-0123456789abcdef", "DEV-ONLY-SECRET-CHANGE-ME-0123456789ABCDEF"],
)
def test_a_published_default_is_refused_even_when_long(env, published: str) -> None:
    env.setenv("SHOP_JWT_SECRET", published)
    env.setenv("SHOP_DATABASE_PASSWORD", "changeme")
    with pytest.raises(settings_mod.ConfigError) as caught:
        settings_mod.load_settings()
    assert caught.value.problems == {
        "SHOP_JWT_SECRET": "is a published default: generate a new one",
        "SHOP_DATABASE_PASSWORD": "is a published default: generate a new one",
    }, "a secret printed in a tutorial or in source code is known to everyone, whatever its length"
    assert published not in everything_about(caught.value)


def test_other_bad_values_are_reported_too(env) -> None:
    good(env)
    env.setenv("SHOP_TOKEN_TTL_SECONDS", "5")
    env.setenv("SHOP_ENVIRONMENT", "staging")
    with pytest.raises(settings_mod.ConfigError) as caught:
        settings_mod.load_settings()
    assert set(caught.value.problems) == {"SHOP_TOKEN_TTL_SECONDS", "SHOP_ENVIRONMENT"}


def test_a_dot_env_file_is_read_and_the_environment_wins(env, tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f"SHOP_JWT_SECRET={JWT_SECRET}\nSHOP_DATABASE_PASSWORD={DB_PASSWORD}\n"
        "SHOP_TOKEN_TTL_SECONDS=120\n"
    )
    assert settings_mod.load_settings(env_file=dotenv).token_ttl_seconds == 120
    env.setenv("SHOP_TOKEN_TTL_SECONDS", "300")
    assert settings_mod.load_settings(env_file=dotenv).token_ttl_seconds == 300, (
        "a real environment variable overrides the .env file"
    )
    good(env)
    absent = settings_mod.load_settings(env_file=tmp_path / "absent.env")
    assert absent.token_ttl_seconds == 300, "a .env file that does not exist is simply skipped"


def test_mounted_secret_files_are_read(env, tmp_path: Path) -> None:
    (tmp_path / "SHOP_JWT_SECRET").write_text(JWT_SECRET + "\n")
    (tmp_path / "SHOP_DATABASE_PASSWORD").write_text(DB_PASSWORD)
    loaded = settings_mod.load_settings(secrets_dir=tmp_path)
    assert loaded.jwt_secret.get_secret_value() == JWT_SECRET, (
        "secrets_dir: one file per setting, as Docker and Kubernetes mount secrets"
    )


def test_no_secret_in_any_log_line(env, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    good(env)
    loaded = settings_mod.load_settings()
    settings_mod.log_startup(loaded, logging.getLogger("shop"))
    env.setenv("SHOP_JWT_SECRET", "leaky-short-one")
    try:
        settings_mod.load_settings()
    except settings_mod.ConfigError as error:
        logging.getLogger("shop").exception("cannot start: %s", error)
    assert any("starting with" in r.getMessage() for r in caplog.records), (
        'log_startup logs one line "starting with {...}"'
    )
    lines = [caplog.text, *(r.getMessage() for r in caplog.records)]
    for line in lines:
        for secret in (JWT_SECRET, DB_PASSWORD, "leaky-short-one"):
            assert secret not in line, f"a secret reached the logs: {line[:200]!r}"
