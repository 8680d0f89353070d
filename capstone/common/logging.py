"""One JSON object per line, with the request id on every line (lesson 09: structlog).

The set-up is lesson 09's piece (exercise 09.8, ``setup_telemetry``, through
:mod:`capstone.common.observability`): structlog's lines and the standard library's, the same
JSON on stdout, each with ``service``, ``logger``, ``level`` and a UTC ``timestamp``.

The request id lives in a context variable (structlog's contextvars), so every log line written
while a request is handled carries it, and the HTTP client helpers forward it downstream. When
tracing is on, a line written inside a span also carries its ``trace_id`` and ``span_id``: a
log search finds the trace, and the trace's id finds every log line of the order.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import structlog
from structlog.contextvars import bind_contextvars, get_contextvars

REQUEST_ID_HEADER = "X-Request-ID"
# what a caller's request id may look like to be kept: short printable ASCII, no spaces. Anything
# else (huge, control characters, non-ASCII) is replaced, so it is never echoed or logged as is.
REQUEST_ID_MAX_LENGTH = 64
_REQUEST_ID = re.compile(rf"[\x21-\x7e]{{1,{REQUEST_ID_MAX_LENGTH}}}")


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stdout for structlog *and* the standard library (uvicorn, alembic...):
    lesson 09's piece sets them up, with the rest of the process's telemetry."""
    from capstone.common.observability import setup_telemetry

    setup_telemetry(service, level)


def new_request_id() -> str:
    return uuid.uuid4().hex


def acceptable_request_id(request_id: str | None) -> str | None:
    """The caller's request id if it is safe to echo and log, else None."""
    if request_id and _REQUEST_ID.fullmatch(request_id):
        return request_id
    return None


def bind_request_id(request_id: str | None) -> str:
    """Binds the incoming request id (or a new one, when it is missing or not acceptable) to
    every log line of this task."""
    rid = acceptable_request_id(request_id) or new_request_id()
    bind_contextvars(request_id=rid)
    return rid


def current_request_id() -> str | None:
    value = get_contextvars().get("request_id")
    return str(value) if value else None


def get_logger(name: str) -> Any:
    """A structlog logger whose lines name it in ``logger``."""
    return structlog.get_logger(name)
