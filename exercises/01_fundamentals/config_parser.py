"""01.5 A config parser with a custom exception hierarchy (core).

Parses `key = value` lines against a schema of types. Every problem is a `ConfigError`
subclass that names the key and the line, and a failed conversion keeps the original error
as its cause (`raise ... from error`), so a traceback shows both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
    raise NotImplementedError("01.5: parse the lines, convert them, raise ConfigError subclasses")


def load_config(
    path: str | Path,
    schema: Mapping[str, ValueType],
    defaults: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """Reads the UTF-8 file at `path` and parses it with `source` set to the path.

    A file that cannot be read (missing, a directory, no permission) is a ConfigError whose
    message names the path and whose `__cause__` is the original OSError.
    """
    raise NotImplementedError("01.5: read the file (OSError -> ConfigError) and parse it")
