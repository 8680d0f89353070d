"""Secrets in settings: SecretStr, fail fast at start-up, and nothing in repr, logs or errors.

Run: uv run python lessons/08_security/examples/06_secure_settings.py

The script sets environment variables for itself only (a copy of os.environ is restored at
the end) and writes a throw-away .env file in a temporary folder.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", frozen=True, hide_input_in_errors=True)

    jwt_secret: SecretStr
    token_ttl_seconds: int = 900

    @field_validator("jwt_secret")
    @classmethod
    def long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters long")  # describe, never quote
        return value


class Leaky(BaseSettings):
    """The same without the care: a str secret, and pydantic's default error messages."""

    model_config = SettingsConfigDict(env_prefix="DEMO_")
    jwt_secret: str = Field(min_length=32)
    token_ttl_seconds: int = 900


def main() -> None:
    saved = dict(os.environ)
    logging.basicConfig(level=logging.INFO, format="  log: %(message)s", stream=sys.stdout)
    log = logging.getLogger("demo")
    try:
        os.environ["DEMO_JWT_SECRET"] = "Z3x9-a-long-random-secret-from-the-vault-7Qp"
        settings = Settings()
        print("repr:", repr(settings))
        log.info("started with %s", settings.model_dump())
        print(
            "only the code that signs uses it:",
            len(settings.jwt_secret.get_secret_value()),
            "chars",
        )
        print("leaky repr:", repr(Leaky()))

        os.environ["DEMO_JWT_SECRET"] = "hunter2"
        os.environ["DEMO_TOKEN_TTL_SECONDS"] = "soon"
        for cls in (Leaky, Settings):
            try:
                cls()
            except ValidationError as error:
                print(f"{cls.__name__} fails at start-up:")
                print("   ", str(error).replace("\n", "\n    "))

        del os.environ["DEMO_JWT_SECRET"], os.environ["DEMO_TOKEN_TTL_SECONDS"]
        with tempfile.TemporaryDirectory() as folder:
            dotenv = Path(folder) / ".env"
            dotenv.write_text("DEMO_JWT_SECRET=from-a-dot-env-file-0123456789abcdef\n")
            print("from .env:", Settings(_env_file=dotenv).jwt_secret)  # type: ignore[call-arg]
            (Path(folder) / "DEMO_JWT_SECRET").write_text("from-a-mounted-secret-file-0123456789\n")
            from_file = Settings(_secrets_dir=folder)  # type: ignore[call-arg]
            print(
                "from a mounted secrets folder:",
                len(from_file.jwt_secret.get_secret_value()),
                "characters read",
            )
    finally:
        os.environ.clear()
        os.environ.update(saved)


if __name__ == "__main__":
    main()
