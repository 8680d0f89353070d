"""09.1 JSON log lines that carry context from contextvars.

A log line is read by a machine first (a log store, `jq`), a person second. One JSON object per
line keeps every field findable, and the fields that say *which request* a line belongs to are
added once, where the work starts, instead of being passed to every `logger.info` call:

    configure_logging("INFO", stream=sys.stdout)
    log = logging.getLogger("shop.orders")
    with bound(request_id="4bf92f35", user_id=7):
        log.info("order placed", extra={"order_id": 42})
    # {"time": "2025-01-31T09:15:02.123+00:00", "level": "INFO", "logger": "shop.orders",
    #  "message": "order placed", "request_id": "4bf92f35", "user_id": 7, "order_id": 42}

The bound fields live in a `ContextVar`, so each asyncio task (each request being served) sees
its own, and a value bound inside a block is gone once the block ends.
"""

from __future__ import annotations

import json  # noqa: F401 - you will need it
import logging
import logging.config
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime  # noqa: F401 - you will need them
from types import MappingProxyType
from typing import Any, TextIO

CORE_FIELDS = ("time", "level", "logger", "message")

# Attributes every LogRecord has: anything else on a record came from `extra=`.
RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
) | {"message", "asctime", "taskName"}

# The fields bound to the current context (given). Never change the mapping in place: another
# task that copied the context shares it. Bind by setting a *new* mapping.
_context: ContextVar[Mapping[str, Any]] = ContextVar("log_context", default=MappingProxyType({}))


def bind(**fields: Any) -> Token[Mapping[str, Any]]:
    """Adds ``fields`` to every line logged from this context on; returns a token for `unbind`.

    The new fields are merged with those already bound (a new mapping each time, never an
    in-place change); a field bound again takes the new value.
    """
    raise NotImplementedError("09.1: set a new mapping in _context and return the token")


def unbind(token: Token[Mapping[str, Any]]) -> None:
    """Restores the context to what it was before the `bind` that returned ``token``."""
    raise NotImplementedError("09.1: reset _context with the token")


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """``with bound(request_id=...):`` binds for the block only - also when the block raises,
    so the next line of this context never carries a finished request's fields. Blocks nest:
    an inner block adds to the outer fields, and leaving it restores them."""
    raise NotImplementedError("09.1: bind, yield, and unbind in a finally")
    yield  # makes this a generator function, as @contextmanager needs


def current_context() -> dict[str, Any]:
    """A copy of the fields bound in this context (changing it changes nothing)."""
    raise NotImplementedError("09.1: return a dict copy of the bound fields")


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line.

    - The core fields come first, in this order: ``time`` (the record's ``created`` as ISO 8601
      in UTC with its offset, e.g. ``"2025-01-31T09:15:02.123+00:00"``), ``level`` (the level
      name), ``logger`` (the logger's name) and ``message`` (the message with its %-arguments
      filled in: ``record.getMessage()``).
    - Then the fields bound in this context, then the record's extras (``extra={...}``: every
      attribute of the record that is not in RECORD_ATTRIBUTES). Neither can overwrite a core
      field.
    - ``exception``: the formatted traceback when the record has ``exc_info``
      (``logger.exception(...)``); ``stack``: the formatted stack when it has ``stack_info``.
    - A value json cannot encode (a UUID, a datetime, any object) is written as its ``str()``;
      a message with a newline stays on one line (JSON escapes it).
    """

    def format(self, record: logging.LogRecord) -> str:
        raise NotImplementedError("09.1: build the dict (context, extras, core fields), dump it")


def configure_logging(level: str | int = "INFO", stream: TextIO | None = None) -> None:
    """Sends every logger's records, at ``level`` and above, as JSON lines to ``stream``
    (sys.stderr when None), with `logging.config.dictConfig`.

    - Level names may be in any case ("warning"); an unknown name raises ValueError with
      "unknown log level" and the list of valid names (DEBUG, INFO, WARNING, ...).
    - Loggers created before the call (libraries make theirs at import) keep working.
    - Calling it again replaces the set-up: each record is still written exactly once.
    """
    raise NotImplementedError("09.1: check the level, then dictConfig a JsonFormatter handler")
