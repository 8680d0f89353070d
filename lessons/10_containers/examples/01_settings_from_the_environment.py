"""Twelve-factor configuration with pydantic-settings: the environment, a secrets folder, and
every problem reported at once.

    uv run python lessons/10_containers/examples/01_settings_from_the_environment.py

The same settings are read three times: from a development environment, from a "container"
whose secret arrives as a file in a secrets folder (as compose and Kubernetes mount them), and
from a broken environment, which fails with one error that lists every problem.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    # no env_prefix: the variables are called PORT, DATABASE_URL... in every deploy
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    debug: bool = False
    database_url: SecretStr
    jwt_secret: SecretStr = Field(min_length=32)


def show(title: str, settings: Settings) -> None:
    print(f"{title}:")
    # a SecretStr prints as '**********': a log line or a traceback never shows it
    print(f"  {settings!r}")
    secret = settings.jwt_secret.get_secret_value()  # for the one place that needs it
    print(f"  the JWT secret itself has {len(secret)} characters")


def main() -> None:
    laptop = {
        "PORT": "8001",
        "DEBUG": "yes",  # 1/0, true/false, yes/no, on/off
        "DATABASE_URL": "postgresql://shop:dev-only-pw@127.0.0.1/shop",
        "JWT_SECRET": "dev-only-" + "x" * 32,
    }
    with environment(laptop):
        show("1. a laptop (variables only)", Settings())

    with tempfile.TemporaryDirectory() as secrets_dir:
        # compose `secrets:` and Kubernetes Secret volumes appear as files named after the secret
        (Path(secrets_dir) / "jwt_secret").write_text("s" * 48)
        container = {"DATABASE_URL": "postgresql://shop@db/shop"}
        with environment(container):
            settings = Settings(_secrets_dir=secrets_dir)
        show("2. a container (the JWT secret read from a file in the secrets folder)", settings)

    broken = {"PORT": "http", "DEBUG": "perhaps", "JWT_SECRET": "short"}
    try:
        with environment(broken):
            Settings()
    except ValidationError as error:
        count = error.error_count()
        print(f"3. a broken deploy: {count} problems in one error, none of them a value:")
        for problem in error.errors():
            print(f"  - {'.'.join(map(str, problem['loc']))}: {problem['msg']}")


@contextlib.contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """Runs the block with exactly these settings variables in os.environ (yours are put back
    afterwards), as a container would get them from compose or Kubernetes."""
    names = {name.upper() for name in Settings.model_fields}
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name in names:
            os.environ.pop(name, None)
        os.environ.update(saved)


if __name__ == "__main__":
    main()
