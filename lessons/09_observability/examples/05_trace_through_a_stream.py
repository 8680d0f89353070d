"""A trace carried through a Redis Streams message: the producer writes traceparent into the
message's fields, the consumer reads it back and continues the same trace.

Uses the Redis at JOURNEY_REDIS_URL (default redis://127.0.0.1:6379/0), a stream key of its
own, deleted at the end.

Run: uv run python lessons/09_observability/examples/05_trace_through_a_stream.py
"""

from __future__ import annotations

import asyncio
import os
import uuid

import redis.asyncio as aioredis
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

URL = os.environ.get("JOURNEY_REDIS_URL") or "redis://127.0.0.1:6379/0"
PROPAGATOR = TraceContextTextMapPropagator()
exporter = InMemorySpanExporter()
TOPIC = "orders.events"  # the span names use the logical name, not our unique key


def tracer_for(service: str) -> Tracer:
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}), shutdown_on_exit=False
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("example")


orders, notifier = tracer_for("orders"), tracer_for("notifier")


async def produce(client: aioredis.Redis, stream: str) -> None:
    with (
        orders.start_as_current_span("place order"),  # e.g. the HTTP request's span
        orders.start_as_current_span(f"send {TOPIC}", kind=SpanKind.PRODUCER),
    ):
        fields = {"order_id": "42"}
        PROPAGATOR.inject(fields)  # adds "traceparent" for the PRODUCER span
        await client.xadd(stream, fields)
        print("published fields:", fields)


async def consume(client: aioredis.Redis, stream: str) -> None:
    ((_, entries),) = await client.xread({stream: "0"}, count=1, block=2000)
    entry_id, raw = entries[0]
    fields = {k.decode(): v.decode() for k, v in raw.items()}  # a bytes client: decode
    parent = PROPAGATOR.extract(fields)  # the producer's span, as a remote parent
    with (
        notifier.start_as_current_span(f"process {TOPIC}", context=parent, kind=SpanKind.CONSUMER),
        notifier.start_as_current_span("store notification"),
    ):
        await asyncio.sleep(0.005)
    print("consumed entry  :", entry_id.decode(), {"order_id": fields["order_id"]})


async def main() -> None:
    client = aioredis.Redis.from_url(URL)
    stream = f"journey-example:{uuid.uuid4().hex[:8]}:orders.events"
    try:
        await produce(client, stream)
        await consume(client, stream)  # in real life: another process, later
    finally:
        await client.delete(stream)
        await client.aclose()
    spans = sorted(exporter.get_finished_spans(), key=lambda s: s.start_time or 0)
    names = {s.context.span_id: s.name for s in spans}
    print(f"\nall in one trace: {len({s.context.trace_id for s in spans}) == 1}")
    for span in spans:
        parent = names.get(span.parent.span_id, "?") if span.parent else "(root)"
        service = span.resource.attributes["service.name"]
        print(f"  {span.name:<32} {span.kind.name:<9} {service:<9} parent: {parent}")
    print(f"deleted {stream}")


if __name__ == "__main__":
    asyncio.run(main())
