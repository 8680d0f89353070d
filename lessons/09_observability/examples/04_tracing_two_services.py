"""One trace across two FastAPI services on 127.0.0.1, with OpenTelemetry's instrumentation
libraries, printed as a tree.

`front` answers GET /checkout/{cart_id} by calling `back` GET /stock/{sku} with httpx. The
FastAPI instrumentation makes a SERVER span per request (continuing an incoming traceparent);
the httpx instrumentation makes a CLIENT span per call and sends traceparent. Each service has
its own TracerProvider (nothing global) exporting to memory, so the script can print the spans.

Run: uv run python lessons/09_observability/examples/04_tracing_two_services.py
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx
import uvicorn
from fastapi import FastAPI, Request
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()  # both services export here, to print one tree


def provider_for(service: str) -> TracerProvider:
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}), shutdown_on_exit=False
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


front_provider, back_provider = provider_for("front"), provider_for("back")


@asynccontextmanager
async def front_lifespan(app: FastAPI) -> AsyncIterator[None]:
    # One pooled client, made in the server's own event loop, instrumented once.
    async with httpx.AsyncClient(base_url=app.state.back_url) as client:
        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=front_provider)
        app.state.client = client
        yield


back = FastAPI()
front = FastAPI(lifespan=front_lifespan)
seen_traceparent: list[str] = []


@back.get("/stock/{sku}")
async def stock(sku: str, request: Request) -> dict:
    seen_traceparent.append(request.headers.get("traceparent", "-"))
    await asyncio.sleep(0.01)  # pretend to ask a database
    return {"sku": sku, "quantity": 3}


@front.get("/checkout/{cart_id}")
async def checkout(cart_id: str) -> dict:
    reply = await front.state.client.get("/stock/mug")
    return {"cart": cart_id, "stock": reply.json()["quantity"]}


# "receive"/"send" would add a span per ASGI message: noise for this tree.
FastAPIInstrumentor.instrument_app(
    back, tracer_provider=back_provider, exclude_spans=["receive", "send"]
)
FastAPIInstrumentor.instrument_app(
    front, tracer_provider=front_provider, exclude_spans=["receive", "send"]
)


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Runs `app` under uvicorn on a free port, in a thread with its own event loop."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


def print_tree(spans: tuple[ReadableSpan, ...]) -> None:
    by_parent: dict[int | None, list[ReadableSpan]] = {}
    for span in spans:
        by_parent.setdefault(span.parent.span_id if span.parent else None, []).append(span)
    start = min(s.start_time or 0 for s in spans)

    def show(parent: int | None, depth: int) -> None:
        for span in sorted(by_parent.get(parent, []), key=lambda s: s.start_time or 0):
            begin = ((span.start_time or 0) - start) / 1e6
            took = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
            service = span.resource.attributes["service.name"]
            label = f"{'  ' * depth}{span.name} [{span.kind.name}, {service}]"
            print(f"{label:<48} +{begin:6.1f} ms  {took:6.1f} ms")
            show(span.context.span_id, depth + 1)

    show(None, 0)


def main() -> None:
    with serving(back) as back_url:
        front.state.back_url = back_url
        with serving(front) as front_url, httpx.Client(base_url=front_url) as client:
            client.get("/checkout/c-0")  # warm-up: connections, first-call costs
            exporter.clear()
            seen_traceparent.clear()
            reply = client.get("/checkout/c-1")
    print("answer:", reply.json())
    print("traceparent that back received:", seen_traceparent[0])
    spans = exporter.get_finished_spans()
    print(f"\none trace: {len({s.context.trace_id for s in spans}) == 1}, {len(spans)} spans")
    print_tree(spans)
    front_provider.shutdown()
    back_provider.shutdown()


if __name__ == "__main__":
    main()
