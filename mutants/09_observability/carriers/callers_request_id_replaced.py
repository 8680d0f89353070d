"""Replaces a request id header the caller set with the current one.

09.7 Carry the trace and the request id over HTTP, gRPC and stream messages
(capstone piece, stage 1).

An order in the capstone crosses three kinds of hop: HTTP (gateway -> orders), gRPC
(orders -> inventory) and a Redis Stream message (orders' outbox relay -> notifier). For one
trace and one request id to follow it, each hop needs an *inject* on the sending side and an
*extract* on the receiving side, each speaking that hop's carrier:

| hop          | carrier                      | trace keys                | request id key   |
|--------------|------------------------------|---------------------------|------------------|
| HTTP         | headers (any case)           | traceparent, tracestate   | X-Request-ID     |
| gRPC         | metadata (lower-case keys!)  | traceparent, tracestate   | x-request-id     |
| stream entry | fields (bytes or str)        | traceparent, tracestate   | request_id       |

An *extract* gives a `Carried`: the OpenTelemetry context to start the next span in, and the
request id - checked, because every carrier comes from outside.

The request id of the work being done lives in `request_id_var`; `request_scope` sets it for a
block (a request, a message) and resets it afterwards, whatever happens.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from opentelemetry.context import Context
from opentelemetry.trace import get_current_span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

PROPAGATOR = TraceContextTextMapPropagator()
REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_METADATA = "x-request-id"
REQUEST_ID_FIELD = "request_id"
MAX_REQUEST_ID_LENGTH = 128

request_id_var: ContextVar[str | None] = ContextVar("capstone_request_id", default=None)


@dataclass(frozen=True)
class Carried:
    """What arrived with a request or a message: where the trace goes on, and the request id."""

    context: Context
    request_id: str | None

    @property
    def trace_id(self) -> str | None:
        """The incoming trace id (32 hex), or None when no valid trace came along."""
        span_context = get_current_span(self.context).get_span_context()
        return format(span_context.trace_id, "032x") if span_context.is_valid else None


def new_request_id() -> str:
    """A fresh id: 32 lower-case hex characters (uuid4)."""
    return uuid.uuid4().hex


def clean_request_id(value: str | bytes | None) -> str | None:
    """``value`` as a str if it is a valid request id, else None.

    Valid: 1 to MAX_REQUEST_ID_LENGTH characters, each a visible ASCII character ('!' to '~').
    Bytes must be ASCII.
    """
    if value is None:
        return None
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return None
    if 0 < len(value) <= MAX_REQUEST_ID_LENGTH and all("!" <= c <= "~" for c in value):
        return value
    return None


def current_request_id() -> str | None:
    """The request id of the work being done in this context, or None."""
    return request_id_var.get()


@contextmanager
def request_scope(request_id: str | bytes | None = None) -> Iterator[str]:
    """Sets the request id for the block: ``request_id`` if valid, else a fresh one.

    Yields the id in force; the previous one is back after the block, even if it raises.
    """
    rid = clean_request_id(request_id) or new_request_id()
    token = request_id_var.set(rid)
    try:
        yield rid
    finally:
        request_id_var.reset(token)


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("latin-1")  # any byte decodes; a bad request id is refused later
    return value if isinstance(value, str) else None


def _normalised(pairs: Iterable[tuple[Any, Any]]) -> dict[str, str]:
    """Lower-case str keys and str values; pairs that are not text are skipped. First wins."""
    found: dict[str, str] = {}
    for key, value in pairs:
        name, text = _text(key), _text(value)
        if name is None or text is None:
            continue
        found.setdefault(name.lower(), text)
    return found


def _pairs(carrier: Mapping[Any, Any] | Iterable[tuple[Any, Any]] | None) -> Iterable[Any]:
    if carrier is None:
        return ()
    if isinstance(carrier, Mapping):
        return carrier.items()
    return carrier


def _extract(found: dict[str, str], request_id_key: str) -> Carried:
    return Carried(
        context=PROPAGATOR.extract(found), request_id=clean_request_id(found.get(request_id_key))
    )


# -- HTTP --------------------------------------------------------------------------------------


def inject_headers(headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of ``headers`` plus traceparent/tracestate of the current span and X-Request-ID.

    A header the caller already set (in any case) is kept as given.
    """
    sent = dict(headers or {})
    present = {key.lower() for key in sent}
    added: dict[str, str] = {}
    PROPAGATOR.inject(added)
    if (rid := request_id_var.get()) is not None:
        added[REQUEST_ID_HEADER] = rid
    sent.update((key, value) for key, value in added.items() if key not in present)
    return sent


def extract_headers(
    headers: Mapping[str, str] | Iterable[tuple[bytes, bytes]] | None,
) -> Carried:
    """From a mapping of headers (any case) or ASGI's raw list of (bytes, bytes) pairs."""
    return _extract(_normalised(_pairs(headers)), REQUEST_ID_HEADER.lower())


# -- gRPC --------------------------------------------------------------------------------------


def inject_metadata(metadata: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """The pairs given plus the trace context and the request id, every key lower-case."""
    sent = [(key.lower(), value) for key, value in metadata]
    present = {key for key, _ in sent}
    added: dict[str, str] = {}
    PROPAGATOR.inject(added)
    if (rid := request_id_var.get()) is not None:
        added[REQUEST_ID_METADATA] = rid
    sent.extend((key, value) for key, value in added.items() if key not in present)
    return sent


def extract_metadata(metadata: Iterable[tuple[str, str | bytes]] | None) -> Carried:
    """From gRPC invocation metadata (pairs; binary ``-bin`` values are ignored)."""
    pairs = [(k, v) for k, v in _pairs(metadata) if not str(k).endswith("-bin")]
    return _extract(_normalised(pairs), REQUEST_ID_METADATA)


# -- Redis Stream messages -----------------------------------------------------------------------


def inject_fields(fields: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A copy of the message ``fields`` plus traceparent/tracestate and request_id."""
    sent: dict[str, Any] = dict(fields or {})
    added: dict[str, str] = {}
    PROPAGATOR.inject(added)
    if (rid := request_id_var.get()) is not None:
        added[REQUEST_ID_FIELD] = rid
    for key, value in added.items():
        sent.setdefault(key, value)
    return sent


def extract_fields(fields: Mapping[Any, Any] | None) -> Carried:
    """From a stream entry's fields as XREADGROUP returns them (bytes or str keys and values)."""
    return _extract(_normalised(_pairs(fields)), REQUEST_ID_FIELD)
