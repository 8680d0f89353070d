"""09.5 Carry a trace through a Redis Streams message.

An HTTP call carries its trace in a header; a message has no headers, but it has fields. The
producer writes the W3C trace context into the message's fields next to the data, and the
consumer - seconds or hours later, in another process - reads it back and continues the trace:

    XADD orders.events * order_id 42 traceparent 00-4bf92f35...-00f067aa0ba902b7-01

    producer:  [send orders.events]  (PRODUCER span, child of whatever was current)
    consumer:       [process orders.events]  (CONSUMER span, child of the producer span)

The consumer reads with a consumer group (``XREADGROUP``) and acknowledges (``XACK``) an entry
only once its handler succeeded, so an entry whose handling failed stays pending for a retry.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from opentelemetry.trace import SpanKind, Tracer  # noqa: F401 - you will need SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

PROPAGATOR = TraceContextTextMapPropagator()
TRACE_FIELDS = ("traceparent", "tracestate")

# handler(entry_id, fields): the entry id and the message's own fields, as str
Handler = Callable[[str, dict[str, str]], Awaitable[None]]
log = logging.getLogger("lesson09.stream_tracing")


async def publish(redis: Any, stream: str, fields: Mapping[str, str], tracer: Tracer) -> str:
    """XADDs ``fields`` plus the trace context to ``stream``; returns the entry id as a str.

    ``redis`` is a ``redis.asyncio.Redis`` client (bytes or decoded responses). The work
    happens inside a PRODUCER span named ``f"send {stream}"`` - a child of whatever span is
    current - and the message carries that span's context in a ``traceparent`` field (and
    ``tracestate`` when there is one). The caller's ``fields`` are not changed.
    """
    raise NotImplementedError("09.5: a PRODUCER span, inject into a copy of the fields, XADD")


async def consume_batch(
    redis: Any,
    stream: str,
    group: str,
    consumer: str,
    handler: Handler,
    tracer: Tracer,
    *,
    count: int = 10,
    block_ms: int = 100,
) -> int:
    """Reads up to ``count`` new entries (``XREADGROUP`` with id ``">"``, waiting up to
    ``block_ms``) for ``consumer`` in ``group``, and handles each one. Returns how many were
    handled successfully.

    For each entry:

    - decode its fields to str (a client without ``decode_responses`` gives bytes);
    - call ``await handler(entry_id, fields)`` with the fields *without* TRACE_FIELDS, inside a
      CONSUMER span named ``f"process {stream}"`` whose parent is the context in the entry's
      ``traceparent`` - a new trace when it has none or a malformed one;
    - ``XACK`` the entry only after the handler succeeded. A handler that raises: its span ends
      as an ERROR with the exception recorded, the entry stays pending (not acknowledged), and
      the next entries are handled as usual.

    After it returns, no span is left current.
    """
    raise NotImplementedError("09.5: XREADGROUP, extract, CONSUMER span, handler, XACK")
