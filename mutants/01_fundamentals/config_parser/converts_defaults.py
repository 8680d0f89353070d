"""Converts defaults with the schema's type too, so a default of None fails as int(None).

01.5 A config parser with a custom exception hierarchy (core).

Parses `key = value` lines against a schema of types. Every problem is a `ConfigError`
subclass that names the key and the line, and a failed conversion keeps the original error
as its cause (`raise ... from error`), so a traceback shows both.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from pathlib import Path

KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})

ValueType = type[str] | type[int] | type[float] | type[bool]


class ConfigError(Exception):
    """Base of every error the parser raises: `except ConfigError` handles them all."""

    def __init__(self, message: str, *, key: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.line = line


class ConfigSyntaxError(ConfigError):
    """A line that is neither blank, a comment, nor `key = value` with a valid key."""


class UnknownKeyError(ConfigError):
    """A key that the schema does not know (often a typo)."""


class DuplicateKeyError(ConfigError):
    """The same key set twice."""


class MissingKeyError(ConfigError):
    """A key in the schema with no line and no default."""


class InvalidValueError(ConfigError):
    """A value that does not convert to the key's type."""


def parse_config(
    text: str,
    schema: Mapping[str, ValueType],
    defaults: Mapping[str, object] | None = None,
    *,
    source: str = "<config>",
) -> dict[str, object]:
    """Parses `text` into {key: converted value}, with keys in schema order.

    Format, line by line (lines are numbered from 1):
    - blank lines, and lines whose first non-blank character is `#` or `;`, are ignored;
    - anything else is `key = value`, split at the first `=`; key and value are stripped; a
      value wrapped in matching single or double quotes loses them. The key must match
      KEY_RE, else ConfigSyntaxError.
    Conversion by the schema's type: str as is; int and float with int()/float(); bool from
    TRUE_WORDS / FALSE_WORDS, case-insensitive.

    Errors, each a ConfigError subclass with `.key` (None for a syntax error) and `.line` set
    (None for a missing key), and a message that starts with "<source>, line <n>: " when
    there is a line, names the key, and says what was expected:
    - ConfigSyntaxError: a malformed line (the message quotes it);
    - UnknownKeyError: a key not in the schema; if one is close, the message suggests it
      ("did you mean 'port'?");
    - DuplicateKeyError: a key set twice (`.line` is the second line; the message names
      the first, "... already set on line 1");
    - InvalidValueError: a value that does not convert; the message quotes the bad value and
      names the expected type ("port = 'eighty' is not a valid int"), and `__cause__` is the
      original ValueError (`raise ... from error`);
    - MissingKeyError: a schema key with neither a line nor a default (the first one in
      schema order); the message names the key and `source`.
    Defaults fill keys the text does not set and are used as given (not converted). A
    default for a key outside the schema is a programming mistake: ValueError naming it.
    """
    defaults = defaults or {}
    stray = sorted(set(defaults) - set(schema))
    if stray:
        raise ValueError(f"defaults for keys outside the schema: {stray}")

    values: dict[str, object] = {}
    seen_on: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        where = f"{source}, line {number}"
        key, value = _split_line(line, where, number)
        if key not in schema:
            raise UnknownKeyError(
                f"{where}: unknown key {key!r}{_suggestion(key, schema)}", key=key, line=number
            )
        if key in seen_on:
            raise DuplicateKeyError(
                f"{where}: {key!r} is already set on line {seen_on[key]}; keep one of them",
                key=key,
                line=number,
            )
        seen_on[key] = number
        values[key] = _convert(key, value, schema[key], where, number)

    result: dict[str, object] = {}
    for key in schema:
        if key in values:
            result[key] = values[key]
        elif key in defaults:
            result[key] = schema[key](defaults[key])  # type: ignore[arg-type]
        else:
            raise MissingKeyError(
                f"{source}: required key {key!r} is missing; add a line '{key} = ...'", key=key
            )
    return result


def load_config(
    path: str | Path,
    schema: Mapping[str, ValueType],
    defaults: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """Reads the UTF-8 file at `path` and parses it with `source` set to the path.

    A file that cannot be read (missing, a directory, no permission) is a ConfigError whose
    message names the path and whose `__cause__` is the original OSError.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror or error}") from error
    return parse_config(text, schema, defaults, source=str(path))


def _split_line(line: str, where: str, number: int) -> tuple[str, str]:
    key, equals, value = line.partition("=")
    key = key.strip()
    if not equals or not KEY_RE.fullmatch(key):
        raise ConfigSyntaxError(f"{where}: expected 'key = value', got {line!r}", line=number)
    return key, _unquote(value.strip())


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _parse_bool(value: str) -> bool:
    word = value.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{value!r} is not one of {sorted(TRUE_WORDS | FALSE_WORDS)}")


def _convert(key: str, value: str, kind: ValueType, where: str, number: int) -> object:
    # bool first: bool("no") is True, so bool needs its own parser.
    converter: Callable[[str], object] = _parse_bool if kind is bool else kind
    try:
        return converter(value)
    except ValueError as error:
        # `from error` keeps the low-level reason as __cause__ for whoever reads the traceback.
        raise InvalidValueError(
            f"{where}: {key} = {value!r} is not a valid {kind.__name__}", key=key, line=number
        ) from error


def _suggestion(key: str, schema: Mapping[str, ValueType]) -> str:
    close = difflib.get_close_matches(key, list(schema), n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(schema)}"
