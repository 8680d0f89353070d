"""One JSON object per line, with the request id on every line (lesson 09: structlog).

The request id lives in a context variable (structlog's contextvars), so every log line written
while a request is handled carries it, and the HTTP client helpers forward it downstream. When
tracing is on, a line written inside a span also carries its ``trace_id`` and ``span_id``: a
log search finds the trace, and the trace's id finds every log line of the order.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from typing import Any

import orjson
import structlog
from opentelemetry import trace
from structlog.contextvars import bind_contextvars, get_contextvars

REQUEST_ID_HEADER = "X-Request-ID"
# what a caller's request id may look like to be kept: short printable ASCII, no spaces. Anything
# else (huge, control characters, non-ASCII) is replaced, so it is never echoed or logged as is.
REQUEST_ID_MAX_LENGTH = 64
_REQUEST_ID = re.compile(rf"[\x21-\x7e]{{1,{REQUEST_ID_MAX_LENGTH}}}")


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stdout for structlog *and* the standard library (uvicorn, alembic...)."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
        _add_trace_ids,
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            # orjson renders bytes, written as they are: a log line per request stays cheap
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        logger_factory=structlog.BytesLoggerFactory(sys.stdout.buffer),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            # extras first, so the shared processors can tidy them (uvicorn adds color_message)
            foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)


def _add_service(service: str) -> Any:
    def processor(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
        event.setdefault("service", service)
        event.pop("color_message", None)  # uvicorn's ANSI-coloured duplicate of the message
        return event

    return processor


def _add_trace_ids(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """The current span's ids, in the hex the traces show (none outside a span, or when
    tracing is off: then the current span is always the invalid one)."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
        event.setdefault("span_id", format(context.span_id, "016x"))
    return event


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
    return structlog.get_logger(name)
