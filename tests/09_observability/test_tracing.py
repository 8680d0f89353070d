"""09.4 Trace a request across two services with W3C traceparent."""

from __future__ import annotations

import asyncio
import re

import pytest

from journey.targets import load

tracing = load(__file__, "tracing")

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


def _items_app(child_tracer=None):
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict:
        if child_tracer is not None:
            with child_tracer.start_as_current_span("load item"):
                pass
        return {"item_id": item_id}

    @app.get("/boom")
    async def boom() -> dict:
        raise RuntimeError("handler bug")

    @app.get("/unavailable")
    async def unavailable() -> JSONResponse:
        return JSONResponse({"detail": "down"}, status_code=503)

    return app


def _kind(span) -> str:
    return span.kind.name


def test_make_tracer_provider_names_the_service_and_exports_each_span(spans) -> None:
    from opentelemetry import trace

    exporter = spans.exporter()
    provider = tracing.make_tracer_provider("checkout", exporter)
    try:
        with provider.get_tracer("test").start_as_current_span("work"):
            pass
        (span,) = exporter.get_finished_spans()
        assert span.resource.attributes["service.name"] == "checkout", (
            "the provider's Resource carries service.name: that is how Jaeger names the service"
        )
        assert trace.get_tracer_provider() is not provider, (
            "make_tracer_provider must not set the global tracer provider (it can be set once "
            "per process): return the provider and pass it on explicitly"
        )
    finally:
        provider.shutdown()


def test_a_server_span_continues_the_callers_trace(call, spans) -> None:
    provider, exporter = spans.provider("items")
    app = tracing.TracingMiddleware(_items_app(), provider)
    caller_provider, _ = spans.provider("caller")
    with caller_provider.get_tracer("test").start_as_current_span("caller") as caller:
        headers: dict[str, str] = {}
        tracing.PROPAGATOR.inject(headers)
    reply = asyncio.run(
        call(app, "GET", "/items/7", headers=[(b"traceparent", headers["traceparent"].encode())])
    )
    assert reply.status == 200
    server = spans.named(exporter.get_finished_spans(), "GET /items/{item_id}")
    assert server.context.trace_id == caller.get_span_context().trace_id, (
        "the server span joins the caller's trace: extract the context from the incoming "
        "traceparent header and start the span with context=..."
    )
    assert server.parent is not None, "the server span's parent is the span named in traceparent"
    assert server.parent.span_id == caller.get_span_context().span_id, (
        "the server span's parent is the span named in traceparent"
    )
    assert _kind(server) == "SERVER"
    assert server.attributes["http.route"] == "/items/{item_id}"
    assert server.attributes["http.request.method"] == "GET"
    assert server.attributes["http.response.status_code"] == 200
    assert server.status.status_code.name == "UNSET", "a 200 is not an error"


def test_without_or_with_a_bad_traceparent_a_new_trace_starts(call, spans) -> None:
    provider, exporter = spans.provider("items")
    app = tracing.TracingMiddleware(_items_app(), provider)

    async def main() -> list[int]:
        plain = await call(app, "GET", "/items/1")
        bad = await call(app, "GET", "/items/2", headers=[(b"traceparent", b"00-garbage-01")])
        return [plain.status, bad.status]

    assert asyncio.run(main()) == [200, 200], "a malformed traceparent never fails the request"
    finished = exporter.get_finished_spans()
    assert len(finished) == 2
    assert all(span.parent is None for span in finished), (
        "without a valid traceparent the server span is the root of a new trace"
    )
    assert finished[0].context.trace_id != finished[1].context.trace_id


def test_the_server_span_is_current_while_the_app_runs(call, spans) -> None:
    provider, exporter = spans.provider("items")
    app = tracing.TracingMiddleware(_items_app(provider.get_tracer("app")), provider)
    asyncio.run(call(app, "GET", "/items/3"))
    finished = exporter.get_finished_spans()
    server = spans.named(finished, "GET /items/{item_id}")
    child = spans.named(finished, "load item")
    assert child.parent is not None, (
        "a span the handler starts is a child of the server span: start it with "
        "start_as_current_span so it is the current span while the app runs"
    )
    assert child.parent.span_id == server.context.span_id, (
        "a span the handler starts is a child of the server span: start it with "
        "start_as_current_span so it is the current span while the app runs"
    )


def test_an_exception_ends_the_span_as_an_error(call, spans) -> None:
    provider, exporter = spans.provider("items")
    app = tracing.TracingMiddleware(_items_app(), provider)
    with pytest.raises(RuntimeError, match="handler bug"):
        asyncio.run(call(app, "GET", "/boom"))
    finished = exporter.get_finished_spans()
    assert [span.name for span in finished] == ["GET /boom"], (
        "the span must end even when the app raises (only ended spans are exported): "
        "a `with` block, or span.end() in a finally"
    )
    (span,) = finished
    assert span.status.status_code.name == "ERROR"
    assert any(event.name == "exception" for event in span.events), (
        "the exception is recorded on the span (start_as_current_span does it for you)"
    )


def test_a_5xx_answer_is_an_error_span_and_an_unknown_path_is_not_in_the_name(call, spans) -> None:
    provider, exporter = spans.provider("items")
    app = tracing.TracingMiddleware(_items_app(), provider)

    async def main() -> None:
        await call(app, "GET", "/unavailable")
        await call(app, "GET", "/wp-admin/secret-9f8e7d")

    asyncio.run(main())
    unavailable, unknown = exporter.get_finished_spans()
    assert unavailable.status.status_code.name == "ERROR", "a 5xx answer is a server error"
    assert unknown.attributes["http.response.status_code"] == 404
    assert unknown.status.status_code.name == "UNSET", (
        "a 4xx is the client's error, not the server's"
    )
    assert unknown.name == "GET", (
        f"a path no route matched must not become the span name ({unknown.name!r}): span names "
        "are grouped and indexed, like metric labels; use the method alone"
    )


def test_traced_request_sends_the_client_spans_id(spans) -> None:
    import httpx

    provider, exporter = spans.provider("front")
    tracer = provider.get_tracer("test")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503 if request.url.path == "/down" else 200, json={})

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            await tracing.traced_request(
                client, "GET", "http://back.test/up", tracer, headers={"Accept": "text/plain"}
            )
            await tracing.traced_request(client, "POST", "http://back.test/down", tracer, json={})

    asyncio.run(main())
    up, down = exporter.get_finished_spans()
    sent = seen[0].headers.get("traceparent", "")
    match = TRACEPARENT.match(sent)
    assert match, f"the request carries a W3C traceparent header; got {sent!r}"
    assert match.groups() == (spans.trace_id(up), spans.span_id(up)), (
        "traceparent names the CLIENT span: inject inside it"
    )
    assert seen[0].headers["accept"] == "text/plain", "the caller's own headers are sent too"
    assert _kind(up) == "CLIENT"
    assert up.attributes["http.response.status_code"] == 200
    assert down.status.status_code.name == "ERROR", "a 5xx answer marks the client span ERROR"
    assert seen[1].method == "POST"


def test_a_failed_call_still_ends_its_span(spans) -> None:
    import httpx

    provider, exporter = spans.provider("front")

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            await tracing.traced_request(
                client, "GET", "http://back.test/", provider.get_tracer("t")
            )

    with pytest.raises(httpx.ConnectError):
        asyncio.run(main())
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code.name == "ERROR", "a call that fails ends its span as an error"


def test_two_real_services_over_http_make_one_trace(serve, spans) -> None:
    """front (its own provider) calls back (another provider) over loopback HTTP."""
    import httpx
    from fastapi import FastAPI

    front_provider, front_exporter = spans.provider("front")
    back_provider, back_exporter = spans.provider("back")

    back_app = FastAPI()

    @back_app.get("/stock/{sku}")
    async def stock(sku: str) -> dict:
        return {"sku": sku, "quantity": 3}

    front_app = FastAPI()

    @front_app.get("/checkout/{cart_id}")
    async def checkout(cart_id: str) -> dict:
        async with httpx.AsyncClient() as client:
            reply = await tracing.traced_request(
                client, "GET", f"{front_app.state.back}/stock/mug", front_provider.get_tracer("f")
            )
        return {"cart": cart_id, "stock": reply.json()["quantity"]}

    front = tracing.TracingMiddleware(front_app, front_provider)
    back = tracing.TracingMiddleware(back_app, back_provider)

    async def main() -> httpx.Response:
        async with serve(back) as back_url, serve(front) as front_url:
            front_app.state.back = back_url
            async with httpx.AsyncClient() as client:
                return await client.get(f"{front_url}/checkout/c-1", timeout=10)

    reply = asyncio.run(main())
    assert reply.status_code == 200
    assert reply.json() == {"cart": "c-1", "stock": 3}
    front_spans = front_exporter.get_finished_spans()
    server = spans.named(front_spans, "GET /checkout/{cart_id}")
    client = spans.named(front_spans, "GET")
    back_server = spans.named(back_exporter.get_finished_spans(), "GET /stock/{sku}")
    assert server.parent is None, "the front's server span is the root: the test sent no trace"
    assert client.parent is not None, "the CLIENT span is a child of the front's SERVER span"
    assert client.parent.span_id == server.context.span_id, (
        "the CLIENT span is a child of the front's SERVER span"
    )
    assert back_server.parent is not None, (
        "across the network, the back's SERVER span is a child of the front's CLIENT span: "
        "the traceparent header carried it"
    )
    assert back_server.parent.span_id == client.context.span_id, (
        "across the network, the back's SERVER span is a child of the front's CLIENT span: "
        "the traceparent header carried it"
    )
    assert back_server.parent.is_remote, "its parent came from another process"
    assert {s.context.trace_id for s in (server, client, back_server)} == {server.context.trace_id}
