"""05.9 UpstreamClient: the gateway's client for upstream services (capstone piece).

Every test talks to a real server on 127.0.0.1: an aiohttp app, or, for a connection that
closes before any answer, a bare asyncio server that reads a request and hangs up.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from journey.targets import load

upstream = load(__file__, "upstream_client")
UpstreamClient = upstream.UpstreamClient


def _echo_app(status: int = 200, name: str = "echo"):
    """Answers every request with `status` and what it received, as JSON; `name` tells which
    server answered."""
    from aiohttp import web

    async def echo(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        seen = {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "request_ids": request.headers.getall(upstream.REQUEST_ID_HEADER, []),
            "body": await request.text(),
            "content_type": request.content_type,
            "server": name,
            "peer_port": peer[1] if peer else None,
        }
        return web.json_response(seen, status=status, headers={"X-Answered-By": name})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


def test_paths_are_relative_to_the_base_url_and_json_is_decoded(serve) -> None:
    async def main():
        async with (
            serve(_echo_app()) as base,
            UpstreamClient("catalog", f"{base}/api") as client,
        ):
            got = await client.get_json("/products/7", params={"fields": "name"})
            posted = await client.post_json("/products", {"name": "mug"})
            empty = await client.post_json("/products", {})
            return got, posted, empty

    got, posted, empty = asyncio.run(main())
    assert (got["method"], got["path"]) == ("GET", "/api/products/7"), (
        "request paths are appended to the base URL"
    )
    assert got["query"] == {"fields": "name"}, "params become the query string"
    assert posted["method"] == "POST"
    assert posted["body"].replace(" ", "") == '{"name":"mug"}', "post_json sends the body as JSON"
    assert posted["content_type"] == "application/json", (
        "a JSON body says so in Content-Type: a FastAPI service answers 422 to any other"
    )
    assert empty["body"] == "{}", "an empty JSON object is a body too (test `is not None`)"


def test_the_pass_through_call_returns_any_answer_as_it_came(serve) -> None:
    async def main():
        async with serve(_echo_app(status=404)) as base, UpstreamClient("catalog", base) as client:
            return await client.request("GET", "/products/9")

    reply = asyncio.run(main())
    assert isinstance(reply, upstream.UpstreamResponse), "request returns an UpstreamResponse"
    assert reply.status == 404, "a 404 is an answer to pass on, not an error: request never raises"
    assert reply.headers["x-answered-by"] == "echo", "the headers, looked up case-insensitively"
    assert isinstance(reply.body, bytes), "the body as it came, in bytes"
    assert reply.json()["path"] == "/products/9"


@pytest.mark.parametrize("status", [404, 409, 500, 503])
def test_get_json_raises_upstream_error_with_the_status(serve, status: int) -> None:
    async def main() -> None:
        async with serve(_echo_app(status)) as base, UpstreamClient("catalog", base) as client:
            await client.get_json("/products/1")

    with pytest.raises(upstream.UpstreamError) as caught:
        asyncio.run(main())
    error = caught.value
    assert type(error) is upstream.UpstreamError, (
        "an answer with an error status is neither a timeout nor unavailable"
    )
    assert error.status == status, "the upstream's status is kept so the caller can map it"
    assert error.service == "catalog", "the error names the upstream"


def test_the_current_request_id_travels_with_each_call(serve) -> None:
    async def main() -> list[dict]:
        async with serve(_echo_app()) as base, UpstreamClient("orders", base) as client:

            async def serve_one(request_id: str) -> dict:
                upstream.request_id_var.set(request_id)  # what the gateway middleware does
                await asyncio.sleep(0)
                return await client.get_json(f"/for/{request_id}")

            return await asyncio.gather(*(serve_one(f"req-{i}") for i in range(5)))

    seen = asyncio.run(main())
    pairs = {s["path"].rsplit("/", 1)[1]: s["request_ids"] for s in seen}
    assert pairs == {f"req-{i}": [f"req-{i}"] for i in range(5)}, (
        "each call carries the X-Request-ID of the task that made it: read request_id_var "
        "when the request is sent (each asyncio task has its own context)"
    )


def test_without_a_request_id_a_fresh_one_is_made_and_an_explicit_one_wins(serve) -> None:
    async def main() -> list[dict]:
        async with serve(_echo_app()) as base, UpstreamClient("orders", base) as client:
            first = await client.get_json("/a")
            second = await client.get_json("/b")
            upstream.request_id_var.set("from-context")
            third = (await client.request("GET", "/c", headers={"x-request-id": "explicit"})).json()
            return [first, second, third]

    first, second, third = (s["request_ids"] for s in asyncio.run(main()))
    assert len(first) == 1, "X-Request-ID is sent exactly once"
    assert re.fullmatch(r"[0-9a-f]{32}", first[0]), (
        "with no request id in the context, send a new uuid4().hex"
    )
    assert first != second, "a fresh id per call"
    assert third == ["explicit"], (
        "a header the caller passes wins (header names are case-insensitive: send it once)"
    )


def test_one_session_serves_every_call_and_is_made_on_the_running_loop(
    serve, track_clients
) -> None:
    import aiohttp

    opened = track_clients(aiohttp.ClientSession)
    # made outside any event loop, like a gateway that builds its clients before it serves
    client = UpstreamClient("catalog", timeout=2.0)

    async def main() -> list[dict]:
        async with serve(_echo_app(name="one")) as one, serve(_echo_app(name="two")) as two:
            try:
                seen = []
                for _ in range(4):
                    seen.append((await client.request("GET", "/p", base_url=one)).json())
                seen.append((await client.request("GET", "/p", base_url=two)).json())
                return seen
            finally:
                await client.aclose()

    seen = asyncio.run(main())
    assert len(opened.clients) == 1, (
        f"one aiohttp.ClientSession per upstream, made on the first call: saw "
        f"{len(opened.clients)} (a session per call loses the pool of connections)"
    )
    assert len({s["peer_port"] for s in seen[:4]}) == 1, (
        "calls one after another reuse one kept-alive connection"
    )
    assert [s["server"] for s in seen] == ["one"] * 4 + ["two"], (
        "each call goes to the base_url it names (another instance of the upstream)"
    )
    assert not opened.unclosed(), "aclose closes the session"


@pytest.mark.parametrize("bound", [1, 3])
def test_concurrent_requests_are_bounded_and_do_overlap(serve, gauge, bound: int) -> None:
    from aiohttp import web

    async def main() -> int:
        g = gauge(gate=bound)

        async def held(request: web.Request) -> web.Response:
            async with g.held():
                for _ in range(5):
                    await asyncio.sleep(0)  # stay in flight a few loop turns: without a bound,
                    # the waiting requests would pile in now and push the peak above it
            return web.json_response({"ok": True})

        app = web.Application()
        app.router.add_get("/p/{n}", held)
        async with (
            serve(app) as base,
            UpstreamClient("catalog", base, max_concurrency=bound) as client,
        ):
            await asyncio.gather(*(client.get_json(f"/p/{i}") for i in range(10)))
        return g.peak

    peak = asyncio.run(main())
    assert peak <= bound, f"max_concurrency={bound} allows {bound} requests in flight, saw {peak}"
    assert peak == bound, f"requests should run concurrently up to {bound}, the peak was {peak}"


def test_waiting_for_a_free_slot_is_not_timed(serve) -> None:
    from aiohttp import web

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.4)
        return web.json_response({"ok": True})

    async def main() -> list[object]:
        app = web.Application()
        app.router.add_get("/slow", slow)
        async with (
            serve(app) as base,
            UpstreamClient("catalog", base, timeout=0.6, max_concurrency=1) as client,
        ):
            calls = (client.get_json("/slow") for _ in range(2))
            return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(main())
    assert results == [{"ok": True}, {"ok": True}], (
        "each call takes 0.4 s of a 0.6 s timeout: the second one waits for the first, and that "
        f"wait must not count (take a slot first, then start the clock); got {results}"
    )


def test_a_hung_upstream_times_out(serve, gauge) -> None:
    from aiohttp import web

    async def main() -> float:
        g = gauge()

        async def hang(request: web.Request) -> web.Response:
            async with g.held():
                await g.hold_forever()
            return web.json_response({})

        app = web.Application()
        app.router.add_get("/slow", hang)
        async with (
            serve(app, release=g.release) as base,
            UpstreamClient("notifier", base, timeout=0.3) as client,
        ):
            started = time.perf_counter()
            with pytest.raises(upstream.UpstreamTimeout) as caught:
                await client.request("GET", "/slow")
            assert caught.value.status is None, "no answer came: there is no status"
            assert g.total == 1, "a request that timed out is not sent again: it may still run"
            return time.perf_counter() - started

    elapsed = asyncio.run(main())
    assert elapsed < 3, f"timeout=0.3 should end the call quickly, it took {elapsed:.1f}s"


def test_a_refused_connection_is_not_connected(closed_port: int) -> None:
    async def main() -> None:
        async with UpstreamClient("orders", f"http://127.0.0.1:{closed_port}", timeout=2) as client:
            await client.request("POST", "/orders", json={})

    with pytest.raises(upstream.UpstreamNotConnected) as caught:
        asyncio.run(main())
    assert isinstance(caught.value, upstream.UpstreamUnavailable), (
        "UpstreamNotConnected is a kind of UpstreamUnavailable"
    )
    assert caught.value.__cause__ is not None, "raise ... from the aiohttp error"


@asynccontextmanager
async def _hanging_up(drops: int, answer: bytes | None = None) -> AsyncIterator[tuple[str, list]]:
    """A server that reads each request and closes the connection without a word for the first
    `drops` requests, then answers `answer` (default: a 200 with a JSON body). Yields its base
    URL and the list of request lines it read."""
    seen: list[str] = []
    reply = answer or (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
        b'{"ok":true}'
    )

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length:\s*(\d+)", head)
                if length:
                    await reader.readexactly(int(length.group(1)))
                seen.append(head.split(b"\r\n", 1)[0].decode())
                if len(seen) <= drops:
                    break  # hang up: the request gets no answer
                writer.write(reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed its end
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        server.close()


@pytest.mark.parametrize(
    ("method", "headers", "repeated"),
    [
        ("GET", {}, True),
        ("PUT", {}, True),
        ("POST", {"idempotency-key": "k-1"}, True),
        ("POST", {}, False),
        ("PATCH", {}, False),
    ],
    ids=["GET", "PUT", "POST-with-key", "POST", "PATCH"],
)
def test_a_dropped_request_is_sent_again_only_when_that_is_safe(
    method: str, headers: dict[str, str], repeated: bool
) -> None:
    async def main() -> tuple[object, list[str]]:
        async with (
            _hanging_up(drops=1) as (base, seen),
            UpstreamClient("orders", base, timeout=2) as client,
        ):
            try:
                reply = await client.request(method, "/orders/1", json={"n": 1}, headers=headers)
            except upstream.UpstreamError as error:
                return error, seen
            return reply.status, seen

    outcome, seen = asyncio.run(main())
    if repeated:
        assert outcome == 200, (
            f"{method} {headers or ''} is safe to repeat (RFC 9112, 9.3.1): after a connection "
            f"closed before any answer, send it once more; got {outcome!r}"
        )
        assert len(seen) == 2, f"sent once more, not {len(seen) - 1} more times"
    else:
        assert type(outcome) is upstream.UpstreamDropped, (
            f"a {method} without an Idempotency-Key that got no answer raises UpstreamDropped, "
            f"got {outcome!r}"
        )
        assert len(seen) == 1, (
            f"a {method} without an Idempotency-Key may have been handled: never send it again"
        )


def test_a_request_that_keeps_being_dropped_is_not_sent_forever() -> None:
    async def main() -> list[str]:
        async with (
            _hanging_up(drops=100) as (base, seen),
            UpstreamClient("orders", base, timeout=2) as client,
        ):
            with pytest.raises(upstream.UpstreamDropped):
                await client.request("POST", "/orders", json={}, headers={"Idempotency-Key": "k"})
            return seen

    seen = asyncio.run(main())
    assert len(seen) <= 4, f"a dropped request is sent again a few times at most, not {len(seen)}"


def test_an_answer_that_is_not_http_is_unavailable() -> None:
    async def main() -> None:
        async with (
            _hanging_up(drops=0, answer=b"SPLAT not http at all\r\n\r\n") as (base, _),
            UpstreamClient("orders", base, timeout=2) as client,
        ):
            await client.request("GET", "/orders")

    with pytest.raises(upstream.UpstreamUnavailable) as caught:
        asyncio.run(main())
    assert type(caught.value) is upstream.UpstreamUnavailable, (
        "a broken answer is neither a dropped connection nor a failed connect"
    )


@pytest.mark.parametrize(
    ("method", "headers", "safe"),
    [
        ("GET", {}, True),
        ("DELETE", {}, True),
        ("POST", {}, False),
        ("POST", {"Idempotency-Key": "k"}, True),
        ("POST", {"idempotency-key": "k"}, True),
        ("PATCH", {"X-Other": "k"}, False),
    ],
)
def test_safe_to_repeat(method: str, headers: dict[str, str], safe: bool) -> None:
    assert upstream.safe_to_repeat(method, headers) is safe, (
        "safe to repeat: an idempotent method, or any request with an Idempotency-Key "
        "(header names are case-insensitive)"
    )


def test_a_closed_client_refuses_to_send(serve) -> None:
    async def main() -> None:
        async with serve(_echo_app()) as base:
            client = UpstreamClient("orders", base)
            await client.get_json("/orders")
            await client.aclose()
            with pytest.raises(RuntimeError, match="closed"):
                await client.get_json("/orders")
            async with UpstreamClient("orders", base) as client:
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


def test_a_bound_of_one_is_valid() -> None:
    UpstreamClient("catalog", "http://c.test", timeout=1.0, max_concurrency=1)
