"""09.7 Carry the trace and the request id over HTTP, gRPC and stream messages
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

import uuid  # noqa: F401 - you will need it
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from opentelemetry.context import Context
from opentelemetry.trace import get_current_span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

# W3C Trace Context (given). PROPAGATOR.inject(d) writes 'traceparent' (and 'tracestate' when
# there is one) for the current span into the dict d; PROPAGATOR.extract(d) reads a dict with
# lower-case str keys back into a Context - an empty one when the header is absent or bad.
PROPAGATOR = TraceContextTextMapPropagator()
REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_METADATA = "x-request-id"
REQUEST_ID_FIELD = "request_id"
MAX_REQUEST_ID_LENGTH = 128

# The request id of the work being done in this context (given).
request_id_var: ContextVar[str | None] = ContextVar("capstone_request_id", default=None)


@dataclass(frozen=True)
class Carried:
    """What arrived with a request or a message: where the trace goes on, and the request id
    (given)."""

    context: Context
    request_id: str | None

    @property
    def trace_id(self) -> str | None:
        """The incoming trace id (32 hex), or None when no valid trace came along."""
        span_context = get_current_span(self.context).get_span_context()
        return format(span_context.trace_id, "032x") if span_context.is_valid else None


def new_request_id() -> str:
    """A fresh id: 32 lower-case hex characters (uuid4)."""
    raise NotImplementedError("09.7: return a uuid4 in hex")


def clean_request_id(value: str | bytes | None) -> str | None:
    """``value`` as a str if it is a valid request id, else None.

    Valid: 1 to MAX_REQUEST_ID_LENGTH characters, each a visible ASCII character ('!' to '~').
    Bytes must decode as ASCII. None, empty, too long, a space, a newline, an escape code or
    any non-ASCII character: None.
    """
    raise NotImplementedError("09.7: decode bytes as ASCII, check length and characters")


def current_request_id() -> str | None:
    """The request id of the work being done in this context, or None."""
    raise NotImplementedError("09.7: read request_id_var")


@contextmanager
def request_scope(request_id: str | bytes | None = None) -> Iterator[str]:
    """Sets the request id for the block: ``request_id`` if `clean_request_id` accepts it,
    else a fresh one. Yields the id in force; the previous id (or None) is back after the
    block, even if it raises. Scopes nest."""
    raise NotImplementedError("09.7: set request_id_var, yield, reset in a finally")
    yield  # makes this a generator function, as @contextmanager needs


# -- HTTP --------------------------------------------------------------------------------------


def inject_headers(headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """A new dict: ``headers`` plus ``traceparent``/``tracestate`` for the current span (when
    there is one) and ``X-Request-ID`` (when a request id is set).

    A header the caller already set, in any case, is kept as given and not duplicated. The
    caller's mapping is not changed. Nothing current: the headers come back as given.
    """
    raise NotImplementedError("09.7: copy, PROPAGATOR.inject, add X-Request-ID")


def extract_headers(
    headers: Mapping[str, str] | Iterable[tuple[bytes, bytes]] | None,
) -> Carried:
    """From a mapping of headers (names in any case) or ASGI's raw list of (bytes, bytes)
    pairs (``scope["headers"]``). The request id goes through `clean_request_id`; None gives
    an empty Carried (no trace, no request id)."""
    raise NotImplementedError("09.7: normalise to lower-case str keys, extract, clean the id")


# -- gRPC --------------------------------------------------------------------------------------


def inject_metadata(metadata: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """The pairs given plus ``traceparent``/``tracestate`` and ``x-request-id``, as a list of
    (key, value) pairs - every key lower-case: gRPC refuses metadata keys with upper-case
    letters. A key the caller already gave is not added again."""
    raise NotImplementedError("09.7: lower-case the keys, inject the trace and the request id")


def extract_metadata(metadata: Iterable[tuple[str, str | bytes]] | None) -> Carried:
    """From gRPC invocation metadata (``context.invocation_metadata()``: (key, value) pairs).
    Binary metadata (keys ending in ``-bin``, bytes values) is skipped."""
    raise NotImplementedError("09.7: skip -bin keys, extract the trace and the request id")


# -- Redis Stream messages -----------------------------------------------------------------------


def inject_fields(fields: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A new dict: the message ``fields`` (kept as given, bytes values too) plus
    ``traceparent``/``tracestate`` and ``request_id``, for ``XADD``."""
    raise NotImplementedError("09.7: copy, PROPAGATOR.inject, add request_id")


def extract_fields(fields: Mapping[Any, Any] | None) -> Carried:
    """From a stream entry's fields as ``XREADGROUP`` returns them: bytes keys and values
    (a client without ``decode_responses``) or str ones."""
    raise NotImplementedError("09.7: decode keys and values, extract, clean the request id")
