"""Rejects port 1, the smallest valid port (1 < port instead of 1 <= port).

01.9 Typed service settings from the environment (capstone piece).

Every capstone service reads its configuration from environment variables once, at start-up,
into one frozen, typed object. Bad configuration stops the service immediately with a message
that names every wrong variable and says how to fix it, instead of failing later, half-way
through a request. (The capstone does this with pydantic-settings; here you build it by hand.)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args
from urllib.parse import urlsplit, urlunsplit

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LOG_LEVELS: tuple[str, ...] = get_args(LogLevel)
DATABASE_SCHEMES = frozenset({"postgresql", "postgresql+psycopg"})
REDIS_SCHEMES = frozenset({"redis", "rediss"})
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_LOG_LEVEL: LogLevel = "INFO"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
SERVICE_NAME_RE = re.compile(r"[a-z][a-z0-9-]*")


class SettingsError(ValueError):
    """The environment cannot configure the service.

    `problems` maps each wrong variable to what is wrong and what to do; the message lists
    them all, so one start-up attempt shows every mistake at once.
    """

    def __init__(self, service: str, problems: Mapping[str, str]) -> None:
        self.service = service
        self.problems = dict(problems)
        listed = "\n".join(f"  {name}: {problem}" for name, problem in self.problems.items())
        super().__init__(f"{service} cannot start; fix these environment variables:\n{listed}")


def redact_url(url: str) -> str:
    """The URL with its password replaced by "***", safe for logs and error messages.

    "postgresql://app:s3cret@db:5432/shop" -> "postgresql://app:***@db:5432/shop".
    A URL without a password is returned unchanged.
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True, repr=False)
class ServiceSettings:
    """The settings every capstone service shares.

    Field              variable        default / rule
    service            (argument)      lowercase name matching SERVICE_NAME_RE, e.g. "orders"
    database_url       DATABASE_URL    required; scheme in DATABASE_SCHEMES, with a host and a
                                       database name (the URL path, e.g. /shop_orders)
    host               SERVICE_HOST    DEFAULT_HOST; not empty, no whitespace
    port               SERVICE_PORT    default_port; an int from 1 to 65535
    log_level          LOG_LEVEL       "INFO"; one of LOG_LEVELS (case-insensitive in the env)
    redis_url          REDIS_URL       DEFAULT_REDIS_URL; scheme in REDIS_SCHEMES, with a host

    Construction validates every field (a bad service name is a ValueError that mentions
    "service"; every other problem goes into one SettingsError keyed by the field's variable
    name). `repr()` and `as_dict()` never show a password.

    A problem says what is wrong, what a good value looks like, and quotes the bad value
    (URLs through redact_url, so no password leaks): SERVICE_PORT "must be a whole number
    from 1 to 65535" (not a number) or "must be from 1 to 65535"; LOG_LEVEL lists LOG_LEVELS;
    DATABASE_URL shows "postgresql+psycopg://user:password@host:5432/dbname"; REDIS_URL shows
    "redis://host:6379/0"; SERVICE_HOST asks for a host name. `str(error)` names the service
    and has one "VARIABLE: problem" line per problem.
    """

    service: str
    database_url: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    log_level: LogLevel = DEFAULT_LOG_LEVEL
    redis_url: str = DEFAULT_REDIS_URL

    def __post_init__(self) -> None:
        _check_service(self.service)
        problems = _problems(
            self.host, self.port, self.log_level, self.database_url, self.redis_url
        )
        if problems:
            raise SettingsError(self.service, problems)

    @classmethod
    def from_env(
        cls,
        service: str,
        env: Mapping[str, str] | None = None,
        *,
        default_port: int = DEFAULT_PORT,
    ) -> ServiceSettings:
        """Reads the variables from `env` (os.environ when None) and validates them all.

        Values are stripped; an empty value counts as unset (a common slip in compose files).
        LOG_LEVEL is upper-cased. A SERVICE_PORT that is not a whole number, a missing
        DATABASE_URL and every rule in the class docstring are collected, and reported
        together in one SettingsError. The message for a missing DATABASE_URL gives an
        example URL for this service's database (shop_<service>).
        """
        _check_service(service)
        source: Mapping[str, str] = os.environ if env is None else env

        def read(name: str) -> str | None:
            value = source.get(name, "").strip()
            return value or None

        problems: dict[str, str] = {}
        port = default_port
        if (raw_port := read("SERVICE_PORT")) is not None:
            try:
                port = int(raw_port)
            except ValueError:
                problems["SERVICE_PORT"] = (
                    f"must be a whole number from 1 to 65535, got {raw_port!r}; e.g. {default_port}"
                )
        database_url = read("DATABASE_URL")
        if database_url is None:
            problems["DATABASE_URL"] = (
                f"is required: set it to the {service} database, e.g. "
                f"postgresql+psycopg://postgres:postgres@127.0.0.1:5432/shop_{service}"
            )
        host = read("SERVICE_HOST") or DEFAULT_HOST
        log_level = (read("LOG_LEVEL") or DEFAULT_LOG_LEVEL).upper()
        redis_url = read("REDIS_URL") or DEFAULT_REDIS_URL

        # Parse errors come first; then every rule, so one run reports every mistake.
        for name, problem in _problems(
            host, port, log_level, database_url or "", redis_url
        ).items():
            problems.setdefault(name, problem)
        if problems:
            raise SettingsError(service, problems)
        return cls(
            service=service,
            database_url=database_url or "",
            host=host,
            port=port,
            log_level=log_level,  # type: ignore[arg-type]  # checked against LOG_LEVELS above
            redis_url=redis_url,
        )

    @property
    def base_url(self) -> str:
        """Where the service answers HTTP: "http://127.0.0.1:8002"."""
        return f"http://{self.host}:{self.port}"

    def as_dict(self) -> dict[str, object]:
        """Every field by name, with passwords in URLs redacted: safe to log at start-up."""
        return {
            "service": self.service,
            "database_url": redact_url(self.database_url),
            "host": self.host,
            "port": self.port,
            "log_level": self.log_level,
            "redis_url": redact_url(self.redis_url),
        }

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.as_dict().items())
        return f"ServiceSettings({fields})"


def _check_service(service: str) -> None:
    # A wrong service name is a bug in the code that starts the service, not in its environment.
    if not isinstance(service, str) or not SERVICE_NAME_RE.fullmatch(service):
        raise ValueError(f"service name must be lowercase letters, digits and '-', got {service!r}")


def _problems(
    host: str, port: int, log_level: str, database_url: str, redis_url: str
) -> dict[str, str]:
    """Every broken rule, keyed by the environment variable that sets the field."""
    problems: dict[str, str] = {}
    if not host or any(c.isspace() for c in host):
        problems["SERVICE_HOST"] = f"must be a host name or IP address, got {host!r}"
    if isinstance(port, bool) or not isinstance(port, int) or not 1 < port <= 65535:
        problems["SERVICE_PORT"] = f"must be from 1 to 65535, got {port!r}"
    if log_level not in LOG_LEVELS:
        problems["LOG_LEVEL"] = f"must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}"
    database = urlsplit(database_url)
    if (
        database.scheme not in DATABASE_SCHEMES
        or not database.hostname
        or not database.path.strip("/")
    ):
        problems["DATABASE_URL"] = (
            f"must look like postgresql+psycopg://user:password@host:5432/dbname "
            f"(schemes: {', '.join(sorted(DATABASE_SCHEMES))}), got {redact_url(database_url)!r}"
        )
    redis = urlsplit(redis_url)
    if redis.scheme not in REDIS_SCHEMES or not redis.hostname:
        problems["REDIS_URL"] = (
            f"must look like redis://host:6379/0 (schemes: {', '.join(sorted(REDIS_SCHEMES))}), "
            f"got {redact_url(redis_url)!r}"
        )
    return problems
