"""05.9 UpstreamClient: the gateway's client for upstream services (capstone piece)."""

from __future__ import annotations

import asyncio
import json
import re
import time

import httpx
import pytest

from journey.targets import load

upstream = load(__file__, "upstream_client")
UpstreamClient = upstream.UpstreamClient


def _recording_transport(seen: list[httpx.Request], status: int = 200, body=None):
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        payload = body if body is not None else {"path": request.url.path}
        return httpx.Response(status, json=payload)

    return httpx.MockTransport(handler)


def test_paths_are_relative_to_the_base_url_and_json_is_decoded() -> None:
    seen: list[httpx.Request] = []

    async def main():
        transport = _recording_transport(seen)
        async with UpstreamClient("catalog", "http://catalog.test/api", transport=transport) as c:
            got = await c.get_json("/products/7", params={"fields": "name"})
            posted = await c.post_json("/products", {"name": "mug"})
        return got, posted

    got, posted = asyncio.run(main())
    assert str(seen[0].url) == "http://catalog.test/api/products/7?fields=name", (
        "request paths are appended to the base URL, with the query parameters"
    )
    assert got == {"path": "/api/products/7"}, "get_json returns the decoded JSON body"
    assert seen[1].method == "POST"
    assert json.loads(seen[1].content) == {"name": "mug"}
    assert posted == {"path": "/api/products"}


def test_the_current_request_id_travels_with_each_call() -> None:
    seen: list[httpx.Request] = []

    async def main() -> None:
        async with UpstreamClient(
            "orders", "http://orders.test", transport=_recording_transport(seen)
        ) as c:

            async def serve_one(request_id: str) -> None:
                upstream.request_id_var.set(request_id)  # what the gateway middleware does
                await asyncio.sleep(0)
                await c.get_json(f"/for/{request_id}")

            await asyncio.gather(*(serve_one(f"req-{i}") for i in range(5)))

    asyncio.run(main())
    pairs = {r.url.path.rsplit("/", 1)[1]: r.headers.get(upstream.REQUEST_ID_HEADER) for r in seen}
    assert pairs == {f"req-{i}": f"req-{i}" for i in range(5)}, (
        "each call carries the X-Request-ID of the task that made it: read request_id_var "
        "when the request is sent (each asyncio task has its own context)"
    )


def test_without_a_request_id_a_fresh_one_is_made_and_an_explicit_one_wins() -> None:
    seen: list[httpx.Request] = []

    async def main() -> None:
        async with UpstreamClient(
            "orders", "http://orders.test", transport=_recording_transport(seen)
        ) as c:
            await c.request("GET", "/a")
            await c.request("GET", "/b")
            upstream.request_id_var.set("from-context")
            await c.request("GET", "/c", headers={"x-request-id": "explicit"})

    asyncio.run(main())
    first, second, third = (r.headers.get_list(upstream.REQUEST_ID_HEADER) for r in seen)
    assert len(first) == 1, "X-Request-ID is sent exactly once"
    assert re.fullmatch(r"[0-9a-f]{32}", first[0]), (
        "with no request id in the context, send a new uuid4().hex"
    )
    assert first != second, "a fresh id per call"
    assert third == ["explicit"], (
        "a header the caller passes wins (header names are case-insensitive: send it once)"
    )


@pytest.mark.parametrize("bound", [1, 3])
def test_concurrent_requests_are_bounded_and_do_overlap(bound: int) -> None:
    state = {"now": 0, "peak": 0}
    all_in = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        if state["now"] >= bound:
            all_in.set()
        try:
            async with asyncio.timeout(1):
                await all_in.wait()  # hold until `bound` are in flight (or give up after 1 s)
            for _ in range(5):
                await asyncio.sleep(0)  # stay in flight a few loop turns: without a bound,
                # the waiting requests would pile in now and push the peak above it
        except TimeoutError:
            all_in.set()  # never `bound` at once: stop holding, the peak check will say so
        finally:
            state["now"] -= 1
        return httpx.Response(200, json={"ok": True})

    async def main() -> None:
        transport = httpx.MockTransport(handler)
        async with UpstreamClient(
            "catalog", "http://c.test", max_concurrency=bound, transport=transport
        ) as c:
            await asyncio.gather(*(c.get_json(f"/p/{i}") for i in range(10)))

    asyncio.run(main())
    assert state["peak"] <= bound, (
        f"max_concurrency={bound} allows {bound} requests in flight, saw {state['peak']}"
    )
    assert state["peak"] == bound, (
        f"requests should run concurrently up to {bound}, the peak was {state['peak']}"
    )


@pytest.mark.parametrize("status", [404, 409, 500, 503])
def test_error_statuses_raise_upstream_error_with_the_status(status: int) -> None:
    async def main() -> None:
        transport = _recording_transport([], status=status, body={"detail": "nope"})
        async with UpstreamClient("catalog", "http://c.test", transport=transport) as c:
            await c.get_json("/products/1")

    with pytest.raises(upstream.UpstreamError) as caught:
        asyncio.run(main())
    error = caught.value
    assert type(error) is upstream.UpstreamError, (
        "an answer with an error status is neither a timeout nor unavailable"
    )
    assert error.status == status, "the upstream's status is kept so the gateway can map it"
    assert error.service == "catalog", "the error names the upstream"
    assert "catalog" in str(error), "the message names the upstream too"


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ConnectError("refused"), "UpstreamUnavailable"),
        (httpx.ReadTimeout("slow"), "UpstreamTimeout"),
        (httpx.RemoteProtocolError("garbage"), "UpstreamUnavailable"),
    ],
)
def test_transport_failures_are_mapped(failure: Exception, expected: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    async def main() -> None:
        async with UpstreamClient(
            "orders", "http://o.test", transport=httpx.MockTransport(handler)
        ) as c:
            await c.get_json("/orders")

    with pytest.raises(upstream.UpstreamError) as caught:
        asyncio.run(main())
    assert type(caught.value).__name__ == expected, f"{type(failure).__name__} maps to {expected}"
    assert caught.value.status is None, "no answer came: there is no status"
    assert caught.value.__cause__ is failure, (
        "raise ... from the httpx error, keeping its traceback"
    )


def test_a_hung_upstream_times_out(serve, gauge) -> None:
    from aiohttp import web

    async def main() -> float:
        g = gauge()

        async def hang(request: web.Request) -> web.Response:
            await g.hold_forever()
            return web.json_response({})

        app = web.Application()
        app.router.add_get("/slow", hang)
        async with (
            serve(app, release=g.release) as base,
            UpstreamClient("notifier", base, timeout=0.3) as client,
        ):
            started = time.perf_counter()
            with pytest.raises(upstream.UpstreamTimeout):
                await client.get_json("/slow")
            return time.perf_counter() - started

    elapsed = asyncio.run(main())
    assert elapsed < 3, f"timeout=0.3 should end the call quickly, it took {elapsed:.1f}s"


def test_a_refused_connection_is_unavailable(closed_port: int) -> None:
    async def main() -> None:
        async with UpstreamClient("orders", f"http://127.0.0.1:{closed_port}", timeout=2) as client:
            await client.get_json("/orders")

    with pytest.raises(upstream.UpstreamUnavailable):
        asyncio.run(main())


def test_a_closed_client_refuses_to_send() -> None:
    async def main() -> None:
        client = UpstreamClient("orders", "http://o.test", transport=_recording_transport([]))
        await client.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await client.get_json("/orders")
        async with UpstreamClient(
            "orders", "http://o.test", transport=_recording_transport([])
        ) as client:
            await client.get_json("/orders")
        with pytest.raises(RuntimeError, match="closed"):
            await client.get_json("/orders")  # leaving `async with` closed the client

    asyncio.run(main())


@pytest.mark.parametrize(
    ("base_url", "timeout", "max_concurrency"),
    [
        ("catalog", 1.0, 1),
        ("ftp://files.test", 1.0, 1),
        ("http://c.test", 0.0, 1),
        ("http://c.test", 1.0, 0),
    ],
)
def test_bad_configuration_is_rejected(base_url: str, timeout: float, max_concurrency: int) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        UpstreamClient("catalog", base_url, timeout=timeout, max_concurrency=max_concurrency)
