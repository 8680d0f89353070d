"""09.7 Carry trace and request id over HTTP, gRPC and stream messages (capstone piece, stage 1).

The gRPC and Redis tests send the carriers over the wire for real: a loopback gRPC server,
and this test's own Redis stream.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from journey.targets import load

carriers = load(__file__, "carriers")

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
FRESH_ID = re.compile(r"^[0-9a-f]{32}$")


def _remote_parent(carried):
    """The span context a Carried would start the next span under."""
    from opentelemetry import trace

    return trace.get_current_span(carried.context).get_span_context()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("order-42", "order-42"),
        (b"order-42", "order-42"),
        ("a", "a"),
        ("x" * 128, "x" * 128),
        ("x" * 129, None),
        ("", None),
        (None, None),
        ("two words", None),
        ("line\nbreak", None),
        ("caf\u00e9", None),
        ("caf\u00e9".encode(), None),
        (b"\x1b[31m", None),
    ],
    ids=[
        "str",
        "bytes",
        "one char",
        "128 chars",
        "129 chars",
        "empty",
        "none",
        "space",
        "newline",
        "non-ascii str",
        "non-ascii bytes",
        "escape",
    ],
)
def test_clean_request_id(value, expected) -> None:
    assert carriers.clean_request_id(value) == expected, (
        "a request id is 1 to 128 visible ASCII characters ('!' to '~'); bytes are decoded as "
        f"ASCII; anything else gives None. {value!r} -> {expected!r}"
    )


def test_request_scope_sets_and_resets_the_request_id() -> None:
    assert carriers.current_request_id() is None
    with carriers.request_scope("order-42") as rid:
        assert rid == "order-42"
        assert carriers.current_request_id() == "order-42"
        with carriers.request_scope(None) as inner:
            assert FRESH_ID.match(inner), "no id given: a fresh one (32 hex characters)"
            assert carriers.current_request_id() == inner
        assert carriers.current_request_id() == "order-42", "the outer id is back after the block"
    assert carriers.current_request_id() is None
    with carriers.request_scope("bad id\r\n") as replaced:
        assert FRESH_ID.match(replaced), "an invalid id is replaced by a fresh one"


def test_request_scope_resets_even_when_the_block_raises() -> None:
    with pytest.raises(KeyError), carriers.request_scope("doomed"):
        raise KeyError("handler bug")
    assert carriers.current_request_id() is None, (
        "reset the ContextVar in a finally: a long-running consumer would otherwise log the "
        "next message under the failed one's id"
    )


def test_inject_headers_adds_the_trace_and_the_request_id(spans) -> None:
    provider, _ = spans.provider()
    given = {"Accept": "application/json"}
    assert carriers.inject_headers(given) == given, (
        "with no current span and no request id, there is nothing to add"
    )
    with (
        provider.get_tracer("t").start_as_current_span("call orders") as span,
        carriers.request_scope("r-7"),
    ):
        sent = carriers.inject_headers(given)
    match = TRACEPARENT.match(sent.get("traceparent", ""))
    assert match, f"the headers carry a W3C traceparent; got {sent}"
    assert match.groups() == (
        format(span.get_span_context().trace_id, "032x"),
        format(span.get_span_context().span_id, "016x"),
    ), "traceparent names the span that is current when inject_headers is called"
    assert sent["X-Request-ID"] == "r-7"
    assert sent["Accept"] == "application/json"
    assert given == {"Accept": "application/json"}, "the caller's dict is not changed"


def test_a_callers_own_request_id_header_is_kept() -> None:
    with carriers.request_scope("from-context"):
        sent = carriers.inject_headers({"x-request-id": "explicit"})
    assert sent == {"x-request-id": "explicit"}, (
        "a header the caller set already (in any case) is kept, not duplicated"
    )


def test_extract_headers_reads_any_case_and_raw_asgi_headers(spans) -> None:
    provider, _ = spans.provider()
    with provider.get_tracer("t").start_as_current_span("gateway") as span:
        headers = carriers.inject_headers()
    capitalised = {"Traceparent": headers["traceparent"], "X-Request-Id": "r-1"}
    raw = [(b"traceparent", headers["traceparent"].encode()), (b"x-request-id", b"r-2")]
    for carrier, rid in ((capitalised, "r-1"), (raw, "r-2")):
        carried = carriers.extract_headers(carrier)
        parent = _remote_parent(carried)
        assert parent.is_valid, (
            "the extracted context holds the caller's span as a remote parent; header names "
            "are case-insensitive, and ASGI gives them as lower-case bytes"
        )
        assert parent.span_id == span.get_span_context().span_id, (
            "the extracted context holds the caller's span as a remote parent; header names "
            "are case-insensitive, and ASGI gives them as lower-case bytes"
        )
        assert parent.is_remote
        assert carried.request_id == rid
        assert carried.trace_id == format(span.get_span_context().trace_id, "032x")


def test_extract_refuses_a_bad_request_id_and_a_bad_traceparent() -> None:
    carried = carriers.extract_headers(
        {"traceparent": "00-xyz-01", "x-request-id": "evil\r\nSet-Cookie: a=b"}
    )
    assert carried.request_id is None, "an incoming request id is checked with clean_request_id"
    assert not _remote_parent(carried).is_valid, (
        "a malformed traceparent gives no parent: the next span starts a new trace"
    )
    assert carried.trace_id is None, (
        "a malformed traceparent gives no parent: the next span starts a new trace"
    )
    empty = carriers.extract_headers(None)
    assert empty.request_id is None
    assert empty.trace_id is None


def test_tracestate_travels_too(spans) -> None:
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

    upstream = SpanContext(
        trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736,
        span_id=0x00F067AA0BA902B7,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("vendor", "opaque-1")]),
    )
    provider, _ = spans.provider()
    context = trace.set_span_in_context(NonRecordingSpan(upstream))
    with provider.get_tracer("t").start_as_current_span("hop", context=context):
        headers = carriers.inject_headers()
        metadata = dict(carriers.inject_metadata())
        fields = carriers.inject_fields({"order_id": "1"})
    for carrier in (headers, metadata, fields):
        assert carrier.get("tracestate") == "vendor=opaque-1", (
            f"the vendor's tracestate travels with the traceparent; got {carrier}"
        )
        assert carrier["traceparent"].split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_metadata_keys_are_lower_case() -> None:
    with carriers.request_scope("r-9"):
        metadata = carriers.inject_metadata([("Tenant", "acme")])
    assert all(key == key.lower() for key, _ in metadata), (
        f"gRPC refuses metadata keys with upper-case letters; got {[k for k, _ in metadata]}"
    )
    assert ("x-request-id", "r-9") in metadata
    assert ("tenant", "acme") in metadata


def test_metadata_crosses_a_real_grpc_call(spans) -> None:
    import grpc

    provider, _ = spans.provider()
    received: list = []

    async def echo(request: bytes, context) -> bytes:
        received.append(carriers.extract_metadata(context.invocation_metadata()))
        return request

    async def main():
        # SO_REUSEPORT off: a taken port fails instead of being shared (lesson 06)
        server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        server.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(
                    "lesson09.Echo", {"Call": grpc.unary_unary_rpc_method_handler(echo)}
                ),
            )
        )
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                rpc = channel.unary_unary("/lesson09.Echo/Call")
                with provider.get_tracer("t").start_as_current_span("reserve") as span:
                    with carriers.request_scope("order-flow-9"):
                        metadata = carriers.inject_metadata([("tenant", "acme")])
                    await rpc(b"ping", metadata=metadata, timeout=10)
                    await rpc(b"ping", metadata=[("token-bin", b"\x00\xff")], timeout=10)
                return span
        finally:
            await server.stop(None)

    span = asyncio.run(main())
    first, second = received
    assert first.request_id == "order-flow-9", "the request id arrives in 'x-request-id'"
    parent = _remote_parent(first)
    assert parent.span_id == span.get_span_context().span_id, (
        "the server extracts the client's span as its parent from the metadata"
    )
    assert second.request_id is None, "binary '-bin' metadata is skipped, not decoded"
    assert second.trace_id is None, "binary '-bin' metadata is skipped, not decoded"


def test_fields_cross_a_real_redis_stream(redis_space, spans) -> None:
    import redis.asyncio as aioredis

    provider, _ = spans.provider()
    stream = redis_space.key("orders.events")

    async def main():
        client = aioredis.Redis.from_url(redis_space.url)  # bytes in, bytes out
        try:
            with provider.get_tracer("t").start_as_current_span("relay") as span:
                with carriers.request_scope("order-flow-3"):
                    fields = carriers.inject_fields({"type": "order.placed", "event": b"{}"})
                await client.xadd(stream, fields)
            ((_, entries),) = await client.xread({stream: "0"}, count=1)
            return span, fields, entries[0][1]
        finally:
            await client.aclose()

    span, fields, stored = asyncio.run(main())
    assert fields["type"] == "order.placed", "the data stays as given"
    assert fields["event"] == b"{}", "the data stays as given"
    assert fields["request_id"] == "order-flow-3", "the request id travels in 'request_id'"
    assert set(stored) >= {b"traceparent", b"request_id", b"type"}, (
        "what XREADGROUP returns has bytes keys and values"
    )
    carried = carriers.extract_fields(stored)
    assert carried.request_id == "order-flow-3", "extract_fields decodes bytes keys and values"
    assert _remote_parent(carried).span_id == span.get_span_context().span_id
    assert carriers.extract_fields(
        {k.decode(): v.decode() for k, v in stored.items()}
    ).request_id == ("order-flow-3"), "str keys and values (decode_responses=True) work too"
