"""Ships DEBUG as the default log level instead of INFO.

02.3 — A YAML config with defaults and validation (reference solution)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

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
    log_level: str = "DEBUG"
    allowed_hosts: tuple[str, ...] = ()
    database: DatabaseConfig = field(default_factory=DatabaseConfig)


class ConfigError(ValueError):
    """The configuration cannot be used. ``problems`` lists every problem found, one per key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n  - " + "\n  - ".join(problems))
        self.problems = problems


def parse_config(text: str) -> AppConfig:
    """Parses YAML text into an AppConfig: defaults filled in, every problem reported at once."""
    try:
        # safe_load builds only plain data (dict, list, str, int...). yaml.load with the
        # unsafe loader would run `!!python/...` tags: a config file could execute code.
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(
            [f"not valid YAML (or a tag that safe loading refuses): {error}"]
        ) from error
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError([f"the document must be a mapping of keys, not {type(raw).__name__}"])

    problems: list[str] = []
    problems += [
        f"{key}: unknown key" for key in sorted(map(str, raw)) if key not in TOP_LEVEL_KEYS
    ]

    name = raw.get("name")
    if name is None:
        problems.append("name: is required")
    elif not isinstance(name, str) or not name.strip():
        problems.append("name: must be a non-empty string")

    host = _check(raw, "host", str, AppConfig.host, problems)
    port = _check(raw, "port", int, AppConfig.port, problems)
    if isinstance(port, int) and not 1 <= port <= 65535:
        problems.append(f"port: must be between 1 and 65535, got {port}")
    debug = _check(raw, "debug", bool, AppConfig.debug, problems)
    log_level = _check(raw, "log_level", str, AppConfig.log_level, problems)
    if isinstance(log_level, str):
        log_level = log_level.upper()
        if log_level not in LOG_LEVELS:
            problems.append(f"log_level: must be one of {', '.join(LOG_LEVELS)}")
    hosts = _check(raw, "allowed_hosts", list, [], problems)
    if isinstance(hosts, list) and not all(isinstance(h, str) for h in hosts):
        problems.append("allowed_hosts: must be a list of strings")
    database = _database(raw.get("database"), problems)

    if problems:
        raise ConfigError(problems)
    return AppConfig(
        name=name,  # type: ignore[arg-type]  # checked above: problems would be non-empty
        host=host,
        port=port,
        debug=debug,
        log_level=log_level,
        allowed_hosts=tuple(hosts),
        database=database,
    )


def _check(raw: dict[Any, Any], key: str, kind: type, default: Any, problems: list[str]) -> Any:
    """The value under ``key`` if it has the right type, else the default (and a problem)."""
    if key not in raw:
        return default
    value = raw[key]
    # bool is a subclass of int: `port: yes` must not pass as the port number 1
    wrong_bool = kind is not bool and isinstance(value, bool)
    if wrong_bool or not isinstance(value, kind):
        problems.append(f"{key}: must be {_kind_name(kind)}, got {value!r}")
        return default
    return value


def _kind_name(kind: type) -> str:
    return {str: "a string", int: "an integer", bool: "true or false", list: "a list"}.get(
        kind, kind.__name__
    )


def _database(section: object, problems: list[str]) -> DatabaseConfig:
    """The database section merged over its defaults: keys not given keep their default."""
    if section is None:
        return DatabaseConfig()
    if not isinstance(section, dict):
        problems.append("database: must be a mapping")
        return DatabaseConfig()
    problems += [
        f"database.{key}: unknown key"
        for key in sorted(map(str, section))
        if key not in DATABASE_KEYS
    ]
    before = len(problems)
    url = _check(section, "url", str, DatabaseConfig.url, problems)
    pool_size = _check(section, "pool_size", int, DatabaseConfig.pool_size, problems)
    if isinstance(pool_size, int) and pool_size < 1:
        problems.append(f"pool_size: must be at least 1, got {pool_size}")
    # name the nested keys by their full path, as a learner would search the file for them
    problems[before:] = [f"database.{p}" for p in problems[before:]]
    return DatabaseConfig(url=url, pool_size=pool_size)


def load_config(path: Path) -> AppConfig:
    """Reads the UTF-8 file at ``path`` and parses it.

    A missing file is a ConfigError whose message says "not found" and names the path.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"config file not found: {path}"]) from None
    return parse_config(text)
