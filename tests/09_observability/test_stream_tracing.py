"""09.5 Carry a trace through a Redis Streams message (real Redis, this test's own keys)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from journey.targets import load

streams = load(__file__, "stream_tracing")

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
GROUP, CONSUMER = "notifier", "notifier-1"


def _with_redis(space, body: Callable[[Any, str], Awaitable[Any]], *, decode: bool = False) -> Any:
    """Runs ``body(client, stream)`` with an asyncio Redis client and a stream key of this test."""
    import redis.asyncio as aioredis

    async def main() -> Any:
        client = aioredis.Redis.from_url(space.url, decode_responses=decode)
        stream = space.key("orders.events")
        try:
            await client.xgroup_create(stream, GROUP, id="0", mkstream=True)
            async with asyncio.timeout(20):
                return await body(client, stream)
        finally:
            await client.aclose()

    return asyncio.run(main())


def test_publish_writes_the_producer_spans_traceparent_into_the_message(redis_space, spans) -> None:
    provider, exporter = spans.provider("orders")
    tracer = provider.get_tracer("test")

    async def body(client, stream):
        with tracer.start_as_current_span("place order") as outer:
            entry_id = await streams.publish(client, stream, {"order_id": "42"}, tracer)
        return outer, entry_id, await client.xrange(stream)

    outer, entry_id, stored = _with_redis(redis_space, body)
    producer = spans.named(
        exporter.get_finished_spans(), f"send {redis_space.key('orders.events')}"
    )
    ((stored_id, fields),) = stored
    assert entry_id == stored_id.decode(), "publish returns the entry id XADD gave, as a str"
    assert fields[b"order_id"] == b"42", "the message's own fields are stored as given"
    traceparent = fields.get(b"traceparent", b"").decode()
    match = TRACEPARENT.match(traceparent)
    assert match, (
        "the message carries the trace in a 'traceparent' field: PROPAGATOR.inject(fields) "
        f"before XADD; the stored fields are {sorted(k.decode() for k in fields)}"
    )
    assert match.groups() == (spans.trace_id(producer), spans.span_id(producer)), (
        "the traceparent names the PRODUCER span: inject inside it"
    )
    assert producer.kind.name == "PRODUCER"
    assert producer.parent is not None, (
        "the producer span is a child of the span that was current when publish was called"
    )
    assert producer.parent.span_id == outer.get_span_context().span_id, (
        "the producer span is a child of the span that was current when publish was called"
    )


def test_the_consumer_continues_the_trace_and_acknowledges(redis_space, spans) -> None:
    producer_provider, producer_exporter = spans.provider("orders")
    consumer_provider, consumer_exporter = spans.provider("notifier")
    got: list[tuple[str, dict[str, str], str]] = []
    consumer_tracer = consumer_provider.get_tracer("test")

    async def handler(entry_id: str, fields: dict[str, str]) -> None:
        from opentelemetry import trace

        current = trace.get_current_span().get_span_context()
        got.append((entry_id, fields, format(current.trace_id, "032x")))
        with consumer_tracer.start_as_current_span("store notification"):
            pass

    async def body(client, stream):
        entry_id = await streams.publish(
            client, stream, {"order_id": "42", "user": "ada"}, producer_provider.get_tracer("p")
        )
        handled = await streams.consume_batch(
            client, stream, GROUP, CONSUMER, handler, consumer_tracer, block_ms=50
        )
        pending = await client.xpending(stream, GROUP)
        return entry_id, handled, pending["pending"]

    entry_id, handled, pending = _with_redis(redis_space, body)
    stream = redis_space.key("orders.events")
    producer = spans.named(producer_exporter.get_finished_spans(), f"send {stream}")
    finished = consumer_exporter.get_finished_spans()
    consumer = spans.named(finished, f"process {stream}")
    inner = spans.named(finished, "store notification")
    assert handled == 1, "a handled entry is acknowledged (XACK): none pending"
    assert pending == 0, "a handled entry is acknowledged (XACK): none pending"
    assert got, (
        "the handler gets the entry id and the message's own fields as str, without the trace "
        f"fields ({streams.TRACE_FIELDS}); got {got}"
    )
    assert got[0][:2] == (entry_id, {"order_id": "42", "user": "ada"}), (
        "the handler gets the entry id and the message's own fields as str, without the trace "
        f"fields ({streams.TRACE_FIELDS}); got {got}"
    )
    assert consumer.kind.name == "CONSUMER"
    assert consumer.context.trace_id == producer.context.trace_id, (
        "the consumer span joins the producer's trace: extract the context from the fields"
    )
    assert consumer.parent is not None, (
        "the consumer span's parent is the producer span named in the message"
    )
    assert consumer.parent.span_id == producer.context.span_id, (
        "the consumer span's parent is the producer span named in the message"
    )
    assert inner.parent is not None, "the consumer span is current while the handler runs"
    assert inner.parent.span_id == consumer.context.span_id, (
        "the consumer span is current while the handler runs"
    )
    assert got[0][2] == spans.trace_id(producer)


def test_a_failing_handler_leaves_its_entry_pending_and_the_others_go_on(
    redis_space, spans
) -> None:
    provider, exporter = spans.provider("notifier")
    tracer = provider.get_tracer("test")
    handled_orders: list[str] = []

    async def handler(entry_id: str, fields: dict[str, str]) -> None:
        if fields["order_id"] == "2":
            raise ValueError("cannot store notification")
        handled_orders.append(fields["order_id"])

    async def body(client, stream):
        for order_id in ("1", "2", "3"):
            await streams.publish(client, stream, {"order_id": order_id}, tracer)
        handled = await streams.consume_batch(client, stream, GROUP, CONSUMER, handler, tracer)
        pending = await client.xpending_range(stream, GROUP, min="-", max="+", count=10)
        return handled, pending

    handled, pending = _with_redis(redis_space, body)
    assert handled == 2, (
        "one failing entry must not stop the batch: the others are handled and counted"
    )
    assert handled_orders == ["1", "3"], (
        "one failing entry must not stop the batch: the others are handled and counted"
    )
    assert len(pending) == 1, (
        "the failed entry is NOT acknowledged: it stays pending so it can be retried. XACK only "
        "after the handler succeeded"
    )
    stream = redis_space.key("orders.events")
    consumers = [s for s in exporter.get_finished_spans() if s.name == f"process {stream}"]
    assert len(consumers) == 3, "every consumer span ends, the failed one too"
    failed = [s for s in consumers if s.status.status_code.name == "ERROR"]
    assert len(failed) == 1, "the failed entry's span is marked ERROR and records the exception"
    assert any(e.name == "exception" for e in failed[0].events), (
        "the failed entry's span is marked ERROR and records the exception"
    )


@pytest.mark.parametrize("traceparent", [None, "00-not-a-trace-01"], ids=["absent", "malformed"])
def test_a_message_without_a_valid_trace_starts_a_new_one(
    redis_space, spans, traceparent: str | None
) -> None:
    provider, exporter = spans.provider("notifier")
    got: list[dict[str, str]] = []

    async def handler(entry_id: str, fields: dict[str, str]) -> None:
        got.append(fields)

    async def body(client, stream):
        fields = {"order_id": "7"} | ({"traceparent": traceparent} if traceparent else {})
        await client.xadd(stream, fields)  # an old producer that knows nothing of tracing
        return await streams.consume_batch(
            client, stream, GROUP, CONSUMER, handler, provider.get_tracer("t")
        )

    assert _with_redis(redis_space, body) == 1, "the message is handled all the same"
    assert got == [{"order_id": "7"}]
    (span,) = exporter.get_finished_spans()
    assert span.parent is None, "with no valid traceparent, the consumer span starts a new trace"


def test_it_works_with_a_client_that_decodes_responses(redis_space, spans) -> None:
    provider, exporter = spans.provider("both")
    tracer = provider.get_tracer("test")
    got: list[dict[str, str]] = []

    async def handler(entry_id: str, fields: dict[str, str]) -> None:
        got.append(fields)

    async def body(client, stream):
        await streams.publish(client, stream, {"order_id": "9"}, tracer)
        return await streams.consume_batch(client, stream, GROUP, CONSUMER, handler, tracer)

    assert _with_redis(redis_space, body, decode=True) == 1
    assert got == [{"order_id": "9"}], "str fields (decode_responses=True) work as well as bytes"
    stream = redis_space.key("orders.events")
    finished = exporter.get_finished_spans()
    producer = spans.named(finished, f"send {stream}")
    consumer = spans.named(finished, f"process {stream}")
    assert consumer.parent is not None
    assert consumer.parent.span_id == producer.context.span_id


def test_nothing_is_left_current_after_consuming(redis_space, spans) -> None:
    provider, _ = spans.provider("notifier")
    tracer = provider.get_tracer("test")

    async def handler(entry_id: str, fields: dict[str, str]) -> None:
        pass

    async def body(client, stream):
        from opentelemetry import trace

        await streams.publish(client, stream, {"order_id": "1"}, tracer)
        await streams.consume_batch(client, stream, GROUP, CONSUMER, handler, tracer)
        return trace.get_current_span().get_span_context().is_valid

    assert _with_redis(redis_space, body) is False, (
        "after consume_batch no span is current: the next message must not join this trace"
    )
