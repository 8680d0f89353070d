"""Request ids and Prometheus metrics on a FastAPI app served by uvicorn on 127.0.0.1.

- a request id read from X-Request-ID (or made), kept in a contextvar, echoed, and refused when
  it is not a short printable token;
- a counter labelled by the raw path next to one labelled by the route template: 50 order ids
  make 50 series in the first and 1 in the second;
- /metrics in Prometheus's text format.

The app uses FastAPI's @app.middleware("http") for brevity; exercises 09.2 and 09.3 build the
faster pure-ASGI form. The script starts its own server on a free port, calls it, and stops.

Run: uv run python lessons/09_observability/examples/03_request_ids_and_metrics.py
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, make_asgi_app

SAFE_ID = re.compile(r"^[!-~]{1,128}$")  # 1 to 128 visible ASCII characters
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

registry = CollectorRegistry()  # our own registry: nothing global
by_path = Counter(
    "by_raw_path", "Requests by raw path (do not do this)", ["path"], registry=registry
)
by_route = Counter("http_requests", "Requests by route template", ["route"], registry=registry)
latency = Histogram("http_request_duration_seconds", "Latency", ["route"], registry=registry)

app = FastAPI()
app.mount("/metrics", make_asgi_app(registry=registry))


@app.middleware("http")
async def request_ids_and_metrics(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    incoming = request.headers.get("x-request-id", "")
    rid = incoming if SAFE_ID.match(incoming) else uuid.uuid4().hex
    token = request_id.set(rid)
    try:
        response = await call_next(request)
    finally:
        request_id.reset(token)
    route = getattr(request.scope.get("route"), "path", "<unmatched>")
    by_path.labels(request.url.path).inc()
    by_route.labels(route).inc()
    response.headers["X-Request-ID"] = rid
    return response


@app.get("/orders/{order_id}")
async def order(order_id: int) -> dict:
    with latency.labels("/orders/{order_id}").time():  # observe() the elapsed seconds
        await asyncio.sleep(0.001)
        return {"order_id": order_id, "seen_request_id": request_id.get()}


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Runs `app` under uvicorn on a free port, in a thread with its own event loop."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
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


def main() -> None:
    with serving(app) as base, httpx.Client(base_url=base) as client:
        given = client.get("/orders/1", headers={"X-Request-ID": "checkout-7f3a"})
        print("valid id  :", given.headers["x-request-id"], "->", given.json())
        made = client.get("/orders/2")
        print("no id     :", made.headers["x-request-id"], "(made by the server)")
        bad = client.get("/orders/3", headers={"X-Request-ID": "x" * 300})
        print("300 chars :", bad.headers["x-request-id"], "(refused, replaced)")
        for i in range(50):
            client.get(f"/orders/{i}")
        text = client.get("/metrics/").text
    raw = [line for line in text.splitlines() if line.startswith("by_raw_path_total")]
    templated = [line for line in text.splitlines() if line.startswith("http_requests_total")]
    print(f"\nseries labelled by raw path : {len(raw)}  e.g. {raw[0]}")
    print(f"series labelled by template : {len(templated)}  -> {templated}")
    buckets = [line for line in text.splitlines() if "duration_seconds_bucket" in line][:4]
    print("histogram buckets (cumulative counts):")
    print("\n".join(f"  {line}" for line in buckets))


if __name__ == "__main__":
    main()
