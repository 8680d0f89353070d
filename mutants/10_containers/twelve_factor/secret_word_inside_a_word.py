"""Calls a name a secret when a secret word is only part of a word (TOKENIZER, MONKEY).

10.1 Twelve-factor settings from the environment (warm-up).

One image, many deploys: everything that differs between a laptop, CI and production comes
from the environment, never from the image or the code. A container gets plain variables from
``environment:`` and secrets as files (compose's ``secrets:`` and Kubernetes' Secret volumes
mount them under ``/run/secrets``); the ``NAME_FILE`` convention names such a file.

The settings are read once, at start-up, and every problem is reported at once, so a deploy
fails in its first second with the whole list instead of one variable per attempt. No message
ever contains a secret's value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

SECRETS_DIR = Path("/run/secrets")
ENVIRONMENTS = ("development", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
DEFAULT_PORT = 8000
DEFAULT_REDIS_URL = "redis://localhost:6379/0"
MIN_SECRET_LENGTH = 32
# A value that says "I am for a laptop only": refused in production.
DEV_ONLY_PREFIX = "dev-only"
# Words that make a variable's name say "I hold a secret" (API_KEY, DB_PASSWORD, GITHUB_TOKEN).
SECRET_WORDS = frozenset(
    {"SECRET", "PASSWORD", "PASSWD", "TOKEN", "APIKEY", "CREDENTIAL", "CREDENTIALS"}
)
# Splits a name into words (given): at every run of characters that are not letters or
# digits, and where a lower-case letter or a digit is followed by an upper-case letter.
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")


class ConfigError(ValueError):
    """The settings cannot be used; ``problems`` lists every reason, one sentence each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid configuration:\n  - " + "\n  - ".join(self.problems))


class Secret:
    """A value that never shows itself: repr and str print ``Secret('**********')``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value itself, for the one place that needs it (a connection, a signature)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    """What one service needs to run; secrets are :class:`Secret` objects."""

    environment: str
    port: int
    log_level: str
    debug: bool
    database_url: Secret
    redis_url: str
    jwt_secret: Secret


def is_secret_name(name: str) -> bool:
    """True when a variable's name says it holds a secret.

    The name is split into words at every character that is not a letter or a digit, and
    where a lower-case letter or digit is followed by an upper-case one (``dbPassword`` ->
    ``db``, ``Password``). It is a secret name when one of its words, upper-cased, is in
    SECRET_WORDS, or when its last word is ``KEY``. So ``JWT_SECRET``, ``POSTGRES_PASSWORD``,
    ``GITHUB_TOKEN``, ``apiKey`` and ``PRIVATE_KEY`` are secret names; ``PORT``,
    ``KEY_ID`` (KEY is not last), ``MONKEY`` (one word) and ``SECRETS_DIR`` (SECRETS is not
    SECRET) are not.
    """
    words = [word.upper() for word in _WORD_SPLIT.split(name) if word]
    if not words:
        return False
    upper = name.upper()
    return any(word in upper for word in SECRET_WORDS) or upper.endswith("KEY")


def password_in_url(value: str) -> str | None:
    """The password written in a URL (``postgresql://user:pw@host/db`` -> ``"pw"``), or None
    when the value is not a URL with a password (no ``user:password@`` part, or not a URL)."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    try:
        password = parts.password
    except ValueError:
        return None
    return password or None


def read_secret(
    env: Mapping[str, str], name: str, *, secrets_dir: Path = SECRETS_DIR
) -> str | None:
    """A secret's value, from the first place that has it:

    1. the variable ``name`` itself;
    2. the file named by ``{name}_FILE`` (a missing file is a ConfigError naming the variable
       and the path);
    3. the file ``secrets_dir / name.lower()`` (compose and Kubernetes mount secrets there),
       when it exists.

    File contents lose their trailing newline (``echo`` writes one). Setting both ``name`` and
    ``{name}_FILE`` is a ConfigError that says "not both". Returns None when none of the three
    has it. An empty value counts as not set.
    """
    direct = env.get(name) or None
    file_variable = f"{name}_FILE"
    file_name = env.get(file_variable) or None
    if direct is not None and file_name is not None:
        raise ConfigError([f"set {name} or {file_variable}, not both"])
    if direct is not None:
        return direct
    if file_name is not None:
        path = Path(file_name)
        if not path.is_file():
            raise ConfigError([f"{file_variable} names {path}, which is not a readable file"])
        return path.read_text(encoding="utf-8").rstrip("\r\n") or None
    mounted = secrets_dir / name.lower()
    if mounted.is_file():
        return mounted.read_text(encoding="utf-8").rstrip("\r\n") or None
    return None


def parse_bool(name: str, value: str) -> bool:
    """``1/true/yes/on`` -> True, ``0/false/no/off`` -> False, in any case and with spaces
    around; anything else is a ConfigError naming the variable."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError([f"{name} must be one of 1/0, true/false, yes/no, on/off, not {value!r}"])


def load_settings(env: Mapping[str, str], *, secrets_dir: Path = SECRETS_DIR) -> Settings:
    """Reads :class:`Settings` from ``env`` (pass ``os.environ``).

    ==============  ===========================  =========================================
    variable        default                      rule
    ==============  ===========================  =========================================
    APP_ENV         ``development``              one of ENVIRONMENTS
    PORT            8000                         an integer from 1 to 65535
    LOG_LEVEL       ``INFO``                     one of LOG_LEVELS, any case (kept upper)
    DEBUG           false                        :func:`parse_bool`
    DATABASE_URL    (required, a secret)         :func:`read_secret`
    REDIS_URL       DEFAULT_REDIS_URL
    JWT_SECRET      (required, a secret)         :func:`read_secret`; at least
                                                 MIN_SECRET_LENGTH characters
    ==============  ===========================  =========================================

    In production, DEBUG must be off, and no secret (nor the password in DATABASE_URL) may
    start with DEV_ONLY_PREFIX. Every problem found goes into one ConfigError, each naming
    its variable; no message contains a secret's value. An empty variable counts as unset.
    """
    problems: list[str] = []

    def plain(name: str, default: str) -> str:
        return env.get(name) or default

    environment = plain("APP_ENV", "development").strip().lower()
    if environment not in ENVIRONMENTS:
        problems.append(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}")

    port = DEFAULT_PORT
    raw_port = plain("PORT", str(DEFAULT_PORT)).strip()
    try:
        port = int(raw_port)
    except ValueError:
        problems.append(f"PORT must be an integer, not {raw_port!r}")
    else:
        if not 1 <= port <= 65535:
            problems.append(f"PORT must be from 1 to 65535, not {port}")

    log_level = plain("LOG_LEVEL", "INFO").strip().upper()
    if log_level not in LOG_LEVELS:
        problems.append(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")

    debug = False
    try:
        debug = parse_bool("DEBUG", plain("DEBUG", "false"))
    except ConfigError as error:
        problems.extend(error.problems)

    secrets: dict[str, str] = {}
    for name in ("DATABASE_URL", "JWT_SECRET"):
        try:
            value = read_secret(env, name, secrets_dir=secrets_dir)
        except ConfigError as error:
            problems.extend(error.problems)
            continue
        if value is None:
            problems.append(f"{name} is required (set {name}, or {name}_FILE to a file)")
        else:
            secrets[name] = value

    jwt_secret = secrets.get("JWT_SECRET", "")
    if "JWT_SECRET" in secrets and len(jwt_secret) < MIN_SECRET_LENGTH:
        problems.append(f"JWT_SECRET must be at least {MIN_SECRET_LENGTH} characters long")

    if environment == "production":
        if debug:
            problems.append("DEBUG must be off in production")
        database_password = password_in_url(secrets.get("DATABASE_URL", "")) or ""
        for name, value in (("JWT_SECRET", jwt_secret), ("DATABASE_URL", database_password)):
            if value.startswith(DEV_ONLY_PREFIX):
                problems.append(f"{name} is a dev-only value: set a real secret in production")

    if problems:
        raise ConfigError(problems)
    return Settings(
        environment=environment,
        port=port,
        log_level=log_level,
        debug=debug,
        database_url=Secret(secrets["DATABASE_URL"]),
        redis_url=plain("REDIS_URL", DEFAULT_REDIS_URL),
        jwt_secret=Secret(jwt_secret),
    )
