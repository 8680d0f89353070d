"""One JSON object per line, with the request id on every line (lesson 09: structlog).

The set-up and the request-id rules are lesson 09's pieces (exercise 09.8, through
:mod:`capstone.common.observability`, and 09.7's ``clean_request_id``): structlog's lines and the
standard library's, the same JSON on stdout, each with ``service``, ``logger``, ``level``, a UTC
``timestamp`` and the request id. When tracing is on, a line written inside a span also carries
its ``trace_id`` and ``span_id``: a log search finds the trace, and the trace's id finds every
log line of the order.

Where the request id lives: an HTTP request's and a stream entry's in the piece's context
variable (its middleware and the notifier's consumer hooks set it); a gRPC call's bound with
structlog's contextvars (:func:`bind_request_id`). :func:`current_request_id` reads either.
"""

from __future__ import annotations

from typing import Any

import structlog
from structlog.contextvars import bind_contextvars, get_contextvars

from capstone.pieces import lesson_module, piece

_telemetry = piece("telemetry")
_carriers = lesson_module("telemetry", "carriers")

REQUEST_ID_HEADER: str = _telemetry.REQUEST_ID_HEADER
new_request_id = _carriers.new_request_id


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stdout for structlog *and* the standard library (uvicorn, alembic...):
    lesson 09's piece sets them up, with the rest of the process's telemetry."""
    from capstone.common.observability import setup_telemetry

    setup_telemetry(service, level)


def bind_request_id(request_id: str | None) -> str:
    """Binds the incoming request id (or a new one, when it is missing or not acceptable) to
    every log line of this task."""
    rid = _carriers.clean_request_id(request_id) or new_request_id()
    bind_contextvars(request_id=rid)
    return rid


def current_request_id() -> str | None:
    """The request id of the work in hand: the HTTP request's, else the one bound for a gRPC
    call or a stream entry; None outside any."""
    rid: str | None = _telemetry.current_request_id()
    if rid is not None:
        return rid
    value = get_contextvars().get("request_id")
    return str(value) if value else None


def get_logger(name: str) -> Any:
    """A structlog logger whose lines name it in ``logger``."""
    return structlog.get_logger(name)
