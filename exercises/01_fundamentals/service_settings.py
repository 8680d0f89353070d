"""01.9 Typed service settings from the environment (capstone piece).

Every capstone service reads its configuration from environment variables once, at start-up,
into one frozen, typed object. Bad configuration stops the service immediately with a message
that names every wrong variable and says how to fix it, instead of failing later, half-way
through a request. (The capstone does this with pydantic-settings; here you build it by hand.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

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
    raise NotImplementedError("01.9: replace the password in url with ***")


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
        raise NotImplementedError(
            "01.9: validate every field, raise SettingsError with all problems"
        )

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
        raise NotImplementedError("01.9: read, parse and validate the variables")

    @property
    def base_url(self) -> str:
        """Where the service answers HTTP: "http://127.0.0.1:8002"."""
        raise NotImplementedError("01.9: http://host:port")

    def as_dict(self) -> dict[str, object]:
        """Every field by name, with passwords in URLs redacted: safe to log at start-up."""
        raise NotImplementedError("01.9: the fields by name, URLs redacted")

    def __repr__(self) -> str:
        raise NotImplementedError("01.9: ServiceSettings(...) built from as_dict()")
