"""09.8 The observability set-up of every capstone service (capstone piece).

Grouped in the order to build it: set-up and JSON logs, the middleware and its routes,
continuing a carried trace, and last one order followed across HTTP, gRPC and a Redis Stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading

import pytest

from journey.targets import load

telemetry_module = load(__file__, "telemetry")
setup_telemetry = telemetry_module.setup_telemetry
BuildInfo = telemetry_module.BuildInfo

BUILD = BuildInfo(version="3.1.0", commit="c0ffee1")
FRESH_ID = re.compile(r"^[0-9a-f]{32}$")


def _registry():
    from prometheus_client import CollectorRegistry

    return CollectorRegistry()


def _setup(lines, spans, service: str = "orders", **kwargs):
    """setup_telemetry with an in-memory exporter (each span exported as it ends) and a
    stream of its own; returns (telemetry, exporter, stream)."""
    exporter = kwargs.pop("exporter", None) or spans.exporter()
    stream = kwargs.pop("stream", None) or lines()
    telemetry = setup_telemetry(
        service,
        build=BUILD,
        registry=kwargs.pop("registry", None) or _registry(),
        exporter=exporter,
        batch=kwargs.pop("batch", False),
        stream=stream,
        **kwargs,
    )
    return telemetry, exporter, stream


@pytest.fixture
def closing():
    """Collects Telemetry objects and closes them at the end, so no export thread or log handler
    outlives a test. Failures there are ignored: close() has tests of its own."""
    made: list = []
    yield made.append
    for telemetry in made:
        with contextlib.suppress(Exception):
            telemetry.close()
        with contextlib.suppress(Exception):
            telemetry.tracer_provider.shutdown()


def _shop(log_name: str = "capstone.orders"):
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/orders/{order_id}")
    async def order(order_id: int) -> dict:
        telemetry_module.get_logger(log_name).info("order read", order_id=order_id)
        return {"order_id": order_id, "request_id": telemetry_module.current_request_id()}

    @app.get("/boom")
    async def boom() -> dict:
        raise RuntimeError("handler bug")

    return app


def _samples(registry, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for metric in registry.collect():
        for sample in metric.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


# -- set-up and JSON logs ----------------------------------------------------------------------


def test_structlog_and_stdlib_lines_are_json_with_the_service(lines, spans, closing) -> None:
    telemetry, _, stream = _setup(lines, spans)
    closing(telemetry)
    telemetry_module.get_logger("capstone.orders").info("order placed", order_id=42)
    logging.getLogger("uvicorn.error").warning("from %s", "uvicorn")
    structured, foreign = stream.records()
    for line in (structured, foreign):
        assert {"timestamp", "level", "logger", "event", "service"} <= set(line), (
            f"every line has timestamp, level, logger, event and service; got {sorted(line)}"
        )
        assert line["service"] == "orders"
    assert (structured["event"], structured["level"], structured["order_id"]) == (
        "order placed",
        "info",
        42,
    ), "a structlog call's keyword arguments become fields"
    assert (foreign["event"], foreign["level"], foreign["logger"]) == (
        "from uvicorn",
        "warning",
        "uvicorn.error",
    ), "a standard-library record (uvicorn, httpx...) becomes the same kind of JSON line"


def test_lines_carry_the_request_id_and_the_trace_id(lines, spans, closing) -> None:
    telemetry, _, stream = _setup(lines, spans)
    closing(telemetry)
    log = telemetry_module.get_logger("capstone.orders")
    log.info("outside")
    with (
        telemetry_module.request_scope("order-flow-1"),
        telemetry.tracer.start_as_current_span("place order") as span,
    ):
        log.info("inside")
        logging.getLogger("httpx").warning("stdlib inside")
    outside, inside, stdlib_inside = stream.records()
    context = span.get_span_context()
    for line in (inside, stdlib_inside):
        assert line.get("request_id") == "order-flow-1", (
            "a line written while a request id is set carries it (read current_request_id() "
            "in a processor)"
        )
        assert line.get("trace_id") == format(context.trace_id, "032x"), (
            "a line written inside a span carries its trace_id (32 hex) - the key from a log "
            "line to its trace in Jaeger"
        )
        assert line.get("span_id") == format(context.span_id, "016x")
    assert "request_id" not in outside, (
        "outside a request and a span there is no request_id or trace_id field"
    )
    assert "trace_id" not in outside, (
        "outside a request and a span there is no request_id or trace_id field"
    )


def test_an_exception_logged_carries_its_traceback(lines, spans, closing) -> None:
    telemetry, _, stream = _setup(lines, spans)
    closing(telemetry)
    try:
        raise KeyError("order 42")
    except KeyError:
        telemetry_module.get_logger("capstone.orders").exception("lookup failed")
        logging.getLogger("uvicorn.error").exception("stdlib lookup failed")
    records = stream.records()
    assert [line["event"] for line in records] == ["lookup failed", "stdlib lookup failed"]
    for line in records:
        assert "Traceback" in line.get("exception", ""), (
            "log.exception(...) keeps the traceback, rendered as text in an `exception` field "
            f"(structlog's format_exc_info, for both kinds of logger); got {sorted(line)}"
        )
        assert "KeyError: 'order 42'" in line["exception"]


def test_the_level_filters_both_kinds_of_logger(lines, spans, closing) -> None:
    telemetry, _, stream = _setup(lines, spans, level="warning")
    closing(telemetry)
    telemetry_module.get_logger("capstone.orders").info("dropped")
    logging.getLogger("uvicorn.error").info("dropped too")
    telemetry_module.get_logger("capstone.orders").warning("kept")
    assert [line["event"] for line in stream.records()] == ["kept"]
    with pytest.raises(ValueError, match="unknown log level"):
        setup_telemetry("orders", build=BUILD, registry=_registry(), level="chatty")


def test_setting_up_twice_writes_each_line_once_and_close_restores_logging(
    lines, spans, closing
) -> None:
    root = logging.getLogger()
    handlers_before, level_before = list(root.handlers), root.level
    first, _, first_stream = _setup(lines, spans)
    closing(first)
    second, _, second_stream = _setup(lines, spans)
    closing(second)
    logging.getLogger("capstone.orders").warning("once")
    assert [line["event"] for line in second_stream.records()] == ["once"], (
        "a second set-up (a test, a reload) replaces the first one's handler: each line once"
    )
    assert first_stream.getvalue() == "", "the first set-up's handler is gone"
    second.close()
    first.close()
    assert root.handlers == handlers_before, (
        "close() removes the handler it added, and only that one (a test runner's own "
        "handlers stay)"
    )
    assert root.level == level_before, "close() puts the root logger's level back"


def test_spans_go_to_the_exporter_given_and_never_the_global_provider(
    lines, spans, closing
) -> None:
    from opentelemetry import trace

    telemetry, exporter, _ = _setup(lines, spans)
    closing(telemetry)
    with telemetry.tracer.start_as_current_span("work"):
        pass
    (span,) = exporter.get_finished_spans()
    assert span.resource.attributes["service.name"] == "orders"
    assert trace.get_tracer_provider() is not telemetry.tracer_provider, (
        "the global tracer provider can be set once per process: setup_telemetry makes its own "
        "provider and never calls trace.set_tracer_provider"
    )


def test_batched_spans_are_exported_by_close_and_no_thread_is_left(lines, spans) -> None:
    exporter = spans.exporter()
    telemetry, _, _ = _setup(lines, spans, exporter=exporter, batch=True)
    try:
        with telemetry.tracer.start_as_current_span("work"):
            pass
        assert exporter.get_finished_spans() == (), (
            "with batch=True spans leave in batches, in the background (BatchSpanProcessor), "
            "not one by one as each ends"
        )
    finally:
        telemetry.close()
    assert [s.name for s in exporter.get_finished_spans()] == ["work"], (
        "close() shuts the tracer provider down, which exports what is still batched: spans "
        "are not lost at shutdown"
    )
    workers = [t.name for t in threading.enumerate() if "span" in t.name.lower()]
    assert workers == [], f"close() stops the export thread; still running: {workers}"


def test_metrics_and_build_info_go_in_the_registry_given(lines, spans, closing) -> None:
    from prometheus_client import REGISTRY

    in_global = {metric.name for metric in REGISTRY.collect()}  # others of this process may
    registry = _registry()
    telemetry, _, _ = _setup(lines, spans, registry=registry)
    closing(telemetry)
    assert (
        registry.get_sample_value(
            "service_build_info", {"service": "orders", "version": "3.1.0", "commit": "c0ffee1"}
        )
        == 1.0
    ), "service_build_info{service, version, commit} 1 in the registry given"
    assert {metric.name for metric in REGISTRY.collect()} == in_global, (
        "nothing goes in prometheus_client's global REGISTRY unless it is the one passed"
    )


# -- the middleware and the routes -------------------------------------------------------------


def test_a_request_is_traced_counted_logged_and_echoed(call, lines, spans, closing) -> None:
    telemetry, exporter, stream = _setup(lines, spans)
    closing(telemetry)
    app = telemetry.instrument(_shop(), checks={})
    caller_provider, _ = spans.provider("gateway")
    with caller_provider.get_tracer("t").start_as_current_span("gateway") as caller:
        headers = telemetry_module.inject_headers()
    raw = [(b"traceparent", headers["traceparent"].encode()), (b"x-request-id", b"flow-7")]
    reply = asyncio.run(call(app, "GET", "/orders/7", headers=raw))
    assert reply.status == 200
    assert reply.header("x-request-id") == "flow-7", "the checked request id is echoed"
    assert reply.json()["request_id"] == "flow-7", "the handler sees it: current_request_id()"
    server = spans.named(exporter.get_finished_spans(), "GET /orders/{order_id}")
    assert server.kind.name == "SERVER"
    assert server.parent is not None
    assert server.parent.span_id == caller.get_span_context().span_id, (
        "the server span continues the caller's traceparent"
    )
    assert _samples(telemetry.registry, "http_requests_total") == {
        (("method", "GET"), ("route", "/orders/{order_id}"), ("status", "200")): 1.0
    }, "RED: http_requests_total{method, route (the template), status}"
    count = telemetry.registry.get_sample_value(
        "http_request_duration_seconds_count", {"method": "GET", "route": "/orders/{order_id}"}
    )
    assert count == 1.0, "and http_request_duration_seconds{method, route}"
    records = stream.records()
    trace_id = spans.trace_id(server)
    handler_line = next(line for line in records if line["event"] == "order read")
    access = [line for line in records if line["event"] == "request"]
    assert len(access) == 1, "one 'request' line per request"
    assert {k: access[0].get(k) for k in ("method", "route", "status")} == {
        "method": "GET",
        "route": "/orders/{order_id}",
        "status": 200,
    }
    for line in (handler_line, access[0]):
        assert line.get("request_id") == "flow-7", (
            f"every line of the request carries its request_id and trace_id; got {line}"
        )
        assert line.get("trace_id") == trace_id, (
            f"every line of the request carries its request_id and trace_id; got {line}"
        )


def test_without_an_exporter_tracing_is_off_and_the_rest_works(call, lines, spans, closing) -> None:
    stream = lines()
    telemetry = setup_telemetry("orders", build=BUILD, registry=_registry(), stream=stream)
    closing(telemetry)
    assert telemetry.tracing is False, "no exporter: tracing is off"
    app = telemetry.instrument(_shop(), checks={})
    caller_provider, _ = spans.provider("gateway")
    with caller_provider.get_tracer("t").start_as_current_span("gateway"):
        headers = telemetry_module.inject_headers()
    raw = [(b"traceparent", headers["traceparent"].encode()), (b"x-request-id", b"quiet-1")]
    reply = asyncio.run(call(app, "GET", "/orders/3", headers=raw))
    assert reply.status == 200
    assert reply.header("x-request-id") == "quiet-1", "the request id works as ever"
    assert _samples(telemetry.registry, "http_requests_total") == {
        (("method", "GET"), ("route", "/orders/{order_id}"), ("status", "200")): 1.0
    }, "and so do the RED metrics"
    records = stream.records()
    assert [line["event"] for line in records] == ["order read", "request"]
    for line in records:
        assert line.get("request_id") == "quiet-1", line
        assert "trace_id" not in line, f"tracing off: no span, so no trace id; got {line}"
    carried = telemetry_module.extract_headers(headers)
    with telemetry.continue_trace(carried, "nightly job") as span:
        assert not span.is_recording(), "tracing off: continue_trace makes no span either"
        assert telemetry_module.current_request_id() is not None, "but sets a request id"


def test_a_bad_request_id_is_replaced_and_never_logged(call, lines, spans, closing) -> None:
    telemetry, _, stream = _setup(lines, spans)
    closing(telemetry)
    app = telemetry.instrument(_shop(), checks={})
    raw = b'x\r\n{"event": "INJECTED"}' + b"A" * 200
    reply = asyncio.run(call(app, "GET", "/orders/1", headers=[(b"x-request-id", raw)]))
    echoed = reply.header("x-request-id")
    assert echoed, "an invalid X-Request-ID is replaced by a fresh one"
    assert FRESH_ID.match(echoed), "an invalid X-Request-ID is replaced by a fresh one"
    assert "INJECTED" not in stream.getvalue(), "the refused value never reaches a log line"
    assert {line.get("request_id") for line in stream.records()} == {echoed}


def test_unknown_paths_and_methods_keep_the_series_bounded(call, lines, spans, closing) -> None:
    telemetry, exporter, _ = _setup(lines, spans)
    closing(telemetry)
    app = telemetry.instrument(_shop(), checks={})

    async def main() -> None:
        for i in range(60):
            await call(app, "GET", f"/orders/{i}")
            await call(app, "GET", f"/scan/{i}/admin.php")
        for i in range(10):
            await call(app, f"PROBE{i}", "/orders/1")

    asyncio.run(main())
    series = _samples(telemetry.registry, "http_requests_total")
    assert {dict(labels)["route"] for labels in series} == {
        "/orders/{order_id}",
        telemetry_module.UNMATCHED_ROUTE,
    }, "route labels: templates, and UNMATCHED_ROUTE for every unknown path"
    assert {dict(labels)["method"] for labels in series} == {"GET", telemetry_module.OTHER_METHOD}
    names = {span.name for span in exporter.get_finished_spans()}
    assert names == {"GET /orders/{order_id}", "GET", "OTHER /orders/{order_id}"}, (
        "span names are grouped like metric labels: method label and route template, the "
        f"method alone when no route matched - never a raw path or method; got {sorted(names)}"
    )


def test_an_exception_is_a_counted_traced_500_with_the_request_id(
    call, lines, spans, closing
) -> None:
    from opentelemetry import trace

    telemetry, exporter, _ = _setup(lines, spans)
    closing(telemetry)
    app = telemetry.instrument(_shop(), checks={})
    replies = []

    async def main() -> None:
        async def keep(message) -> None:
            if message["type"] == "http.response.start":
                replies.append(message)

        scope_headers = [(b"x-request-id", b"doomed-1")]
        with pytest.raises(RuntimeError, match="handler bug"):
            await call(app, "GET", "/boom", headers=scope_headers)
        assert telemetry_module.current_request_id() is None, (
            "the request id is reset after the request, even when the app raised"
        )
        assert not trace.get_current_span().get_span_context().is_valid, (
            "no span stays current after the request"
        )

    asyncio.run(main())
    assert (
        telemetry.registry.get_sample_value(
            "http_requests_total", {"method": "GET", "route": "/boom", "status": "500"}
        )
        == 1.0
    ), "an unhandled exception is counted as a 500"
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code.name == "ERROR", "and its span ends as an ERROR"
    assert telemetry.registry.get_sample_value("http_requests_in_flight") == 0.0


def test_the_500_answer_to_an_exception_carries_the_request_id(lines, spans, closing) -> None:
    from starlette.testclient import TestClient

    telemetry, _, _ = _setup(lines, spans)
    closing(telemetry)
    app = telemetry.instrument(_shop(), checks={})
    with TestClient(app, raise_server_exceptions=False) as client:
        reply = client.get("/boom", headers={"X-Request-ID": "doomed-2"})
    assert reply.status_code == 500
    assert reply.headers.get("x-request-id") == "doomed-2", (
        "instrument() returns the app wrapped in the middleware, outside FastAPI's error "
        "handling, so even the 500 for an unhandled exception echoes the request id"
    )


def test_health_metrics_and_status_routes(call, lines, spans, closing) -> None:
    telemetry, exporter, stream = _setup(lines, spans)
    closing(telemetry)

    async def database_down() -> None:
        raise ConnectionError("postgresql://shop:pw@db")

    app = telemetry.instrument(_shop(), checks={"database": database_down}, timeout=0.5)

    async def main():
        await call(app, "GET", "/orders/3")
        live = await call(app, "GET", "/health/live")
        ready = await call(app, "GET", "/health/ready")
        metrics = await call(app, "GET", "/metrics")
        status = await call(app, "GET", "/status")
        return live, ready, metrics, status

    live, ready, metrics, status = asyncio.run(main())
    assert live.status == 200
    assert ready.status == 503
    assert ready.json()["failing"] == {"database": "ConnectionError"}
    assert status.json()["version"] == "3.1.0"
    assert status.json()["commit"] == "c0ffee1"
    assert metrics.status == 200
    assert metrics.header("content-type").startswith("text/plain")
    text = metrics.body.decode()
    assert 'http_requests_total{method="GET",route="/orders/{order_id}",status="200"} 1.0' in text
    assert live.header("x-request-id"), "probes get a request id like any request"
    series = _samples(telemetry.registry, "http_requests_total")
    untracked = {"/metrics", "/health/live", "/health/ready"}
    assert not untracked & {dict(labels)["route"] for labels in series}, (
        "probes and scrapes (UNTRACKED_PATHS) are neither counted..."
    )
    assert not untracked & {span.name.split(" ")[-1] for span in exporter.get_finished_spans()}, (
        "...nor traced"
    )
    assert "/health/live" not in stream.getvalue(), "...nor logged"


def test_each_request_leaves_the_callers_context_as_it_was(call, lines, spans, closing) -> None:
    telemetry, _, _ = _setup(lines, spans)
    closing(telemetry)
    app = telemetry.instrument(_shop(), checks={})

    async def main():
        from opentelemetry import trace

        await call(app, "GET", "/orders/1", headers=[(b"x-request-id", b"first")])
        return telemetry_module.current_request_id(), trace.get_current_span().is_recording()

    assert asyncio.run(main()) == (None, False), (
        "after the request, neither its request id nor its span is left set in the context"
    )


def test_other_scopes_pass_through(lines, spans, closing) -> None:
    telemetry, exporter, _ = _setup(lines, spans)
    closing(telemetry)
    seen: list[str] = []

    async def app(scope, receive, send) -> None:
        seen.append(scope["type"])

    middleware = telemetry_module.TelemetryMiddleware(app, telemetry)

    async def main() -> None:
        async def receive():
            return {"type": "lifespan.startup"}

        async def send(message) -> None:
            pass

        await middleware({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)

    asyncio.run(main())
    assert seen == ["lifespan"]
    assert exporter.get_finished_spans() == ()


# -- continuing a carried trace ----------------------------------------------------------------


def test_continue_trace_joins_the_carried_trace_under_its_request_id(lines, spans, closing) -> None:
    from opentelemetry.trace import SpanKind

    telemetry, exporter, stream = _setup(lines, spans)
    closing(telemetry)
    with (
        telemetry_module.request_scope("order-flow-5"),
        telemetry.tracer.start_as_current_span("relay") as producer,
    ):
        fields = telemetry_module.inject_fields({"type": "order.placed"})
    carried = telemetry_module.extract_fields(
        {k.encode(): str(v).encode() for k, v in fields.items()}
    )
    with telemetry.continue_trace(carried, "process orders.events", kind=SpanKind.CONSUMER):
        assert telemetry_module.current_request_id() == "order-flow-5"
        telemetry_module.get_logger("capstone.notifier").info("notification stored")
    assert telemetry_module.current_request_id() is None, "the request id is reset afterwards"
    consumer = spans.named(exporter.get_finished_spans(), "process orders.events")
    assert consumer.kind.name == "CONSUMER"
    assert consumer.parent is not None
    assert consumer.parent.span_id == producer.get_span_context().span_id, (
        "the span is a child of the carried context"
    )
    line = stream.records()[-1]
    assert line["request_id"] == "order-flow-5"
    assert line["trace_id"] == spans.trace_id(consumer)


def test_continue_trace_with_nothing_carried_starts_fresh(lines, spans, closing) -> None:
    telemetry, exporter, _ = _setup(lines, spans)
    closing(telemetry)
    with telemetry.continue_trace(None, "nightly job") as span:
        rid = telemetry_module.current_request_id()
    assert rid is not None, "no carried request id: a fresh one"
    assert FRESH_ID.match(rid), "no carried request id: a fresh one"
    (finished,) = exporter.get_finished_spans()
    assert finished.parent is None, "no carried context: a new trace"
    assert finished.context.span_id == span.get_span_context().span_id


def test_continue_trace_records_an_exception_and_resets(lines, spans, closing) -> None:
    telemetry, exporter, _ = _setup(lines, spans)
    closing(telemetry)
    carried = telemetry_module.extract_metadata([("x-request-id", "rpc-1")])
    with pytest.raises(KeyError), telemetry.continue_trace(carried, "Inventory/Reserve"):
        raise KeyError("no such product")
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code.name == "ERROR", "the exception ends the span as an ERROR"
    assert any(event.name == "exception" for event in span.events)
    assert telemetry_module.current_request_id() is None


# -- one order, one trace: HTTP -> HTTP -> gRPC -> Redis Stream -> consumer --------------------


def test_one_trace_follows_an_order_across_http_grpc_and_a_stream(
    redis_space, serve, lines, spans, closing
) -> None:
    import grpc
    import httpx
    import redis.asyncio as aioredis
    from fastapi import FastAPI
    from opentelemetry.trace import SpanKind

    telemetry, exporter, stream = _setup(lines, spans, service="shop")
    closing(telemetry)
    events = redis_space.key("orders.events")
    log = telemetry_module.get_logger

    async def reserve(request: bytes, context) -> bytes:
        carried = telemetry_module.extract_metadata(context.invocation_metadata())
        with telemetry.continue_trace(carried, "Inventory/Reserve", kind=SpanKind.SERVER):
            log("capstone.inventory").info("reserved")
        return b"ok"

    orders_app, gateway_app = FastAPI(), FastAPI()

    @orders_app.post("/orders")
    async def place() -> dict:
        async with grpc.aio.insecure_channel(orders_app.state.inventory) as channel:
            rpc = channel.unary_unary("/shop.Inventory/Reserve")
            await rpc(b"order", metadata=telemetry_module.inject_metadata(), timeout=10)
        client = aioredis.Redis.from_url(redis_space.url)
        try:
            with telemetry.tracer.start_as_current_span(f"send {events}", kind=SpanKind.PRODUCER):
                await client.xadd(events, telemetry_module.inject_fields({"order_id": "1"}))
        finally:
            await client.aclose()
        log("capstone.orders").info("order placed")
        return {"order_id": 1}

    @gateway_app.post("/api/orders")
    async def gateway_place() -> dict:
        async with httpx.AsyncClient(base_url=gateway_app.state.orders) as client:
            reply = await client.post("/orders", headers=telemetry_module.inject_headers())
        return reply.json()

    async def consume_one() -> None:
        client = aioredis.Redis.from_url(redis_space.url)
        try:
            ((_, entries),) = await client.xread({events: "0"}, count=1, block=5000)
            _, fields = entries[0]
            carried = telemetry_module.extract_fields(fields)
            with telemetry.continue_trace(carried, f"process {events}", kind=SpanKind.CONSUMER):
                log("capstone.notifier").info("notification stored")
        finally:
            await client.aclose()

    async def main() -> httpx.Response:
        # SO_REUSEPORT off: a taken port fails instead of being shared (lesson 06)
        server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        server.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(
                    "shop.Inventory", {"Reserve": grpc.unary_unary_rpc_method_handler(reserve)}
                ),
            )
        )
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        try:
            orders = telemetry.instrument(orders_app, checks={})
            gateway = telemetry.instrument(gateway_app, checks={})
            orders_app.state.inventory = f"127.0.0.1:{port}"
            async with serve(orders) as orders_url, serve(gateway) as gateway_url:
                gateway_app.state.orders = orders_url
                async with httpx.AsyncClient() as client:
                    reply = await client.post(
                        f"{gateway_url}/api/orders",
                        headers={"X-Request-ID": "order-flow-99"},
                        timeout=10,
                    )
            async with asyncio.timeout(10):
                await consume_one()
            return reply
        finally:
            await server.stop(None)

    reply = asyncio.run(main())
    assert reply.status_code == 200
    assert reply.headers["x-request-id"] == "order-flow-99"
    finished = exporter.get_finished_spans()
    gateway = spans.named(finished, "POST /api/orders")
    orders = spans.named(finished, "POST /orders")
    inventory = spans.named(finished, "Inventory/Reserve")
    producer = spans.named(finished, f"send {events}")
    consumer = spans.named(finished, f"process {events}")
    chain = [
        (orders, gateway, "orders' SERVER span is a child of the gateway's (HTTP headers)"),
        (inventory, orders, "inventory's span is a child of orders' (gRPC metadata)"),
        (producer, orders, "the PRODUCER span is a child of orders' span"),
        (consumer, producer, "the notifier's CONSUMER span is a child of the PRODUCER (fields)"),
    ]
    for child, parent, why in chain:
        assert child.parent is not None
        assert child.parent.span_id == parent.context.span_id, why
    trace_id = spans.trace_id(gateway)
    assert {spans.trace_id(span) for span in finished} == {trace_id}, "one trace for the order"
    # What the services logged while they handled the order (not uvicorn's start and stop).
    flow = [line for line in stream.records() if line["logger"].startswith("capstone.")]
    events_logged = {line["event"] for line in flow}
    assert {"reserved", "order placed", "notification stored", "request"} <= events_logged
    for line in flow:
        assert line.get("trace_id") == trace_id, f"every line carries the order's trace_id: {line}"
        assert line.get("request_id") == "order-flow-99", (
            f"every line carries the request id the client sent: {line}"
        )
