"""02.3 — A YAML config with defaults and validation.

A config file is input like any other: it may have typos, wrong types, or even a hostile tag.
``parse_config`` turns YAML text into a typed, frozen ``AppConfig``: keys that are not given get
their defaults, and every problem is reported at once, so a user fixes the file in one go.

Example file::

    name: shop
    port: 8080
    log_level: debug
    allowed_hosts: [shop.example.com]
    database:
      pool_size: 10          # url keeps its default
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TOP_LEVEL_KEYS = frozenset(
    {"name", "host", "port", "debug", "log_level", "allowed_hosts", "database"}
)
DATABASE_KEYS = frozenset({"url", "pool_size"})


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = "sqlite:///journey.db"
    pool_size: int = 5


@dataclass(frozen=True)
class AppConfig:
    name: str
    host: str = "127.0.0.1"
    port: int = 8000
    debug: bool = False
    log_level: str = "INFO"
    allowed_hosts: tuple[str, ...] = ()
    database: DatabaseConfig = field(default_factory=DatabaseConfig)


class ConfigError(ValueError):
    """The configuration cannot be used. ``problems`` lists every problem found, one per key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n  - " + "\n  - ".join(problems))
        self.problems = problems


def parse_config(text: str) -> AppConfig:
    """Parses YAML text into an AppConfig: defaults filled in, every problem reported at once.

    - Load with ``yaml.safe_load`` only. Never ``yaml.load`` with an unsafe loader: a tag
      such as ``!!python/object/apply:os.system`` would run code. A YAML syntax error, or a
      tag that safe loading refuses, is a ConfigError.
    - An empty document counts as ``{}`` (and then fails because ``name`` is required).
      A document that is not a mapping (a list, a string) is a ConfigError.
    - Each problem is a string that starts with the key's path: ``"port: ..."``,
      ``"database.pool_size: ..."``. Collect them all, then raise ``ConfigError(problems)``.
    - Rules:
        * unknown keys (typos!) at the top level or in ``database``: ``"prot: unknown key"``
        * ``name``: required, a non-empty string
        * ``host``: a string; ``port``: an integer from 1 to 65535 (not a bool, not "8000")
        * ``debug``: a bool (YAML's ``yes``/``no`` already load as bools)
        * ``log_level``: a string, case-insensitive, stored upper-case; one of LOG_LEVELS
        * ``allowed_hosts``: a list of strings, stored as a tuple
        * ``database``: a mapping merged over the defaults (``url`` a string,
          ``pool_size`` an integer >= 1); keys it does not give keep their defaults
    """
    raise NotImplementedError("02.3: safe_load the YAML, fill defaults, validate every key")


def load_config(path: Path) -> AppConfig:
    """Reads the UTF-8 file at ``path`` and parses it.

    A missing file is a ConfigError whose message says "not found" and names the path.
    """
    raise NotImplementedError("02.3: read the file and parse it")
