"""Logs the secret values at start-up.

Secrets come from the environment (or a `.env` file in development, or files mounted by the
platform: Docker and Kubernetes secrets, a Vault agent) and are checked once, at start-up. A
missing, short or well-known secret stops the service before it serves one request. After
that, the secret lives in a `SecretStr`, which shows as "**********" in `repr`, `str`, logs and
JSON dumps: only the code that signs a token calls `.get_secret_value()`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SHOP_"
MIN_JWT_SECRET_LENGTH = 32
MIN_DATABASE_PASSWORD_LENGTH = 12
# Secrets published in examples, tutorials and our own source: never good enough to run with.
KNOWN_DEFAULT_SECRETS = frozenset(
    {
        "changeme",
        "change-me",
        "secret",
        "password",
        "postgres",
        "dev-only-secret-change-me-0123456789abcdef",
        "please-change-this-secret-in-production-0123",
    }
)


class ConfigError(Exception):
    """The service cannot start. `problems` maps each variable name to what is wrong with it."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {name}: {problem}" for name, problem in problems.items())
        super().__init__(f"the service cannot start; fix these settings:\n{lines}")


def _strong(value: SecretStr, minimum: int) -> SecretStr:
    secret = value.get_secret_value()
    # the messages describe the secret, never quote it
    if secret.strip().lower() in KNOWN_DEFAULT_SECRETS:
        raise ValueError("is a published default: generate a new one")
    if len(secret) < minimum:
        raise ValueError(f"must be at least {minimum} characters long")
    return value


class SecureSettings(BaseSettings):
    """The service's settings, read from SHOP_* environment variables.

    Field               variable                 rule
    environment         SHOP_ENVIRONMENT         "development" or "production" (default)
    jwt_secret          SHOP_JWT_SECRET          required; >= MIN_JWT_SECRET_LENGTH characters;
                                                 not in KNOWN_DEFAULT_SECRETS (any case)
    database_password   SHOP_DATABASE_PASSWORD   required; >= MIN_DATABASE_PASSWORD_LENGTH;
                                                 not in KNOWN_DEFAULT_SECRETS (any case)
    token_ttl_seconds   SHOP_TOKEN_TTL_SECONDS   900; from 60 to 86400

    Frozen; the secrets are SecretStr; a validation error never shows the input value.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,  # pydantic quotes the bad value in errors otherwise
    )

    environment: Literal["development", "production"] = "production"
    jwt_secret: SecretStr
    database_password: SecretStr
    token_ttl_seconds: int = Field(default=900, ge=60, le=86400)

    @field_validator("jwt_secret")
    @classmethod
    def _jwt_secret_is_strong(cls, value: SecretStr) -> SecretStr:
        return _strong(value, MIN_JWT_SECRET_LENGTH)

    @field_validator("database_password")
    @classmethod
    def _database_password_is_strong(cls, value: SecretStr) -> SecretStr:
        return _strong(value, MIN_DATABASE_PASSWORD_LENGTH)


def load_settings(
    env_file: str | Path | None = None, secrets_dir: str | Path | None = None
) -> SecureSettings:
    """Reads and validates the settings once; ConfigError names every problem at once.

    Sources, highest priority first: the process environment, then `env_file` (a `.env` file
    of NAME=value lines, when given and present), then `secrets_dir` (a folder with one file
    per setting, named like its variable, e.g. `SHOP_JWT_SECRET`, as Docker or Kubernetes
    mount secrets; a trailing newline in the file is dropped).

    ConfigError.problems maps the variable name (e.g. "SHOP_JWT_SECRET") to what is wrong:
    "is required" when missing, "must be at least N characters long" when short, "is a
    published default: generate a new one" for a known default, pydantic's message
    otherwise. Neither the error, nor its cause, nor its context contains a secret: raise it
    `from None`.
    """
    try:
        # _env_file and _secrets_dir are pydantic-settings' own options, not fields
        return SecureSettings(_env_file=env_file, _secrets_dir=secrets_dir)  # type: ignore[call-arg]
    except ValidationError as error:
        problems: dict[str, str] = {}
        for detail in error.errors():
            field = str(detail["loc"][0]) if detail["loc"] else "settings"
            name = f"{ENV_PREFIX}{field.upper()}"
            message = "is required" if detail["type"] == "missing" else detail["msg"]
            problems[name] = message.removeprefix("Value error, ")
    raise ConfigError(problems) from None


def describe(settings: SecureSettings) -> dict[str, Any]:
    """Every setting by field name, safe to log: each secret is "**********" (never its value,
    nor its length)."""
    return {
        name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in settings
    }


def log_startup(settings: SecureSettings, logger: logging.Logger) -> None:
    """Logs one INFO line "starting with {...}" that shows describe(settings)."""
    logger.info("starting with %s", describe(settings))
