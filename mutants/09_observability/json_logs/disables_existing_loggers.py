"""Silences every logger created before configure_logging (dictConfig's default).

09.1 JSON log lines that carry context from contextvars.

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

import json
import logging
import logging.config
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TextIO

CORE_FIELDS = ("time", "level", "logger", "message")

# Attributes every LogRecord has: anything else on a record came from `extra=`.
RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
) | {"message", "asctime", "taskName"}

# The fields bound to the current context. The value is never changed in place (a read-only
# mapping): binding makes a new mapping, so another task that copied the context keeps its own.
_context: ContextVar[Mapping[str, Any]] = ContextVar("log_context", default=MappingProxyType({}))


def bind(**fields: Any) -> Token[Mapping[str, Any]]:
    """Adds ``fields`` to every line logged from this context on; returns a token for `unbind`."""
    return _context.set(MappingProxyType({**_context.get(), **fields}))


def unbind(token: Token[Mapping[str, Any]]) -> None:
    """Restores the context to what it was before the `bind` that returned ``token``."""
    _context.reset(token)


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """``with bound(request_id=...):`` binds for the block only, even when it raises."""
    token = bind(**fields)
    try:
        yield
    finally:
        unbind(token)


def current_context() -> dict[str, Any]:
    """A copy of the fields bound in this context."""
    return dict(_context.get())


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = dict(_context.get())
        line.update(
            (key, value) for key, value in vars(record).items() if key not in RECORD_ATTRIBUTES
        )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        # The core fields last, so that no bound or extra field can overwrite them.
        line.update(
            time=datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            level=record.levelname,
            logger=record.name,
            message=record.getMessage(),
        )
        ordered = {key: line.pop(key) for key in CORE_FIELDS} | line
        # default=str: a value json cannot encode (a datetime, a UUID) is written as its str();
        # json escapes newlines and control characters, so a line is always one line.
        return json.dumps(ordered, default=str, ensure_ascii=False)


def configure_logging(level: str | int = "INFO", stream: TextIO | None = None) -> None:
    """Sends every logger's records, at ``level`` and above, as JSON lines to ``stream``."""
    if isinstance(level, str):
        names = logging.getLevelNamesMapping()
        if level.upper() not in names:
            valid = ", ".join(sorted(names, key=names.__getitem__))
            raise ValueError(f"unknown log level {level!r}: use one of {valid}")
        level = level.upper()
    handler: dict[str, Any] = {"class": "logging.StreamHandler", "formatter": "json"}
    if stream is not None:
        handler["stream"] = stream
    logging.config.dictConfig(
        {
            "version": 1,
            # Loggers created before this call (by libraries, at import) must keep working.
            "disable_existing_loggers": True,
            "formatters": {"json": {"()": JsonFormatter}},
            "handlers": {"json": handler},
            # dictConfig replaces the root's handlers: calling it again never doubles lines.
            "root": {"level": level, "handlers": ["json"]},
        }
    )
