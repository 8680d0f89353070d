"""Ignores the message's traceparent: the consumer span starts a new trace.

09.5 Carry a trace through a Redis Streams message.

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

from opentelemetry.trace import SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

PROPAGATOR = TraceContextTextMapPropagator()
TRACE_FIELDS = ("traceparent", "tracestate")

Handler = Callable[[str, dict[str, str]], Awaitable[None]]
log = logging.getLogger("lesson09.stream_tracing")


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def publish(redis: Any, stream: str, fields: Mapping[str, str], tracer: Tracer) -> str:
    """XADDs ``fields`` plus the trace context, inside a PRODUCER span; returns the entry id."""
    with tracer.start_as_current_span(
        f"send {stream}",
        kind=SpanKind.PRODUCER,
        attributes={"messaging.system": "redis", "messaging.destination.name": stream},
    ) as span:
        message = dict(fields)
        PROPAGATOR.inject(message)  # inside the span: the consumer's parent is this span
        entry_id = _text(await redis.xadd(stream, message))
        span.set_attribute("messaging.message.id", entry_id)
        return entry_id


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
    """Reads up to ``count`` new entries for ``consumer`` in ``group`` and handles each one.

    Returns how many were handled (and acknowledged).
    """
    reply = await redis.xreadgroup(group, consumer, {stream: ">"}, count=count, block=block_ms)
    handled = 0
    for _, entries in reply or []:
        for raw_id, raw_fields in entries:
            entry_id = _text(raw_id)
            fields = {_text(k): _text(v) for k, v in (raw_fields or {}).items()}
            data = {k: v for k, v in fields.items() if k not in TRACE_FIELDS}
            try:
                with tracer.start_as_current_span(
                    f"process {stream}",
                    kind=SpanKind.CONSUMER,
                    attributes={
                        "messaging.system": "redis",
                        "messaging.destination.name": stream,
                        "messaging.message.id": entry_id,
                    },
                ):
                    await handler(entry_id, data)
            except Exception:  # the span has recorded it; the entry stays pending for a retry
                log.warning("handler failed; entry left pending", extra={"entry_id": entry_id})
                continue
            await redis.xack(stream, group, raw_id)
            handled += 1
    return handled
