"""09.2 Request-id middleware: read, check, set, echo and propagate X-Request-ID."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from journey.targets import load

request_ids = load(__file__, "request_ids")
RequestIdMiddleware = request_ids.RequestIdMiddleware

FRESH_ID = re.compile(r"^[0-9a-f]{32}$")


def _recording_app(seen: list[str | None], extra_headers=()):
    """A plain ASGI app that records the request id it sees while it serves."""

    async def app(scope, receive, send) -> None:
        seen.append(request_ids.current_request_id())
        headers = [(b"content-type", b"text/plain"), *extra_headers]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def test_a_valid_incoming_id_is_kept_seen_by_the_app_and_echoed(call) -> None:
    seen: list[str | None] = []
    app = RequestIdMiddleware(_recording_app(seen))
    reply = asyncio.run(call(app, headers=[(b"x-request-id", b"checkout-7f3a")]))
    assert seen == ["checkout-7f3a"], (
        "while the app serves, current_request_id() returns the incoming X-Request-ID. "
        "ASGI servers give header names in lower case: look for b'x-request-id'"
    )
    assert reply.header("x-request-id") == "checkout-7f3a", "the response echoes the same id"
    assert reply.body == b"ok"


def test_without_a_header_each_request_gets_a_fresh_id(call) -> None:
    seen: list[str | None] = []
    app = RequestIdMiddleware(_recording_app(seen))

    async def main():
        return [await call(app) for _ in range(3)]

    replies = asyncio.run(main())
    echoed = [reply.header("x-request-id") for reply in replies]
    assert all(value and FRESH_ID.match(value) for value in echoed), (
        f"a request without X-Request-ID gets new_request_id(), 32 hex characters; got {echoed}"
    )
    assert len(set(echoed)) == 3, "every request gets its own fresh id"
    assert seen == echoed, "the app sees the very id that is echoed"


@pytest.mark.parametrize("length", [1, 128])
def test_the_boundary_lengths_are_accepted(call, length: int) -> None:
    value = "a" * length
    app = RequestIdMiddleware(_recording_app([]))
    reply = asyncio.run(call(app, headers=[(b"x-request-id", value.encode())]))
    assert reply.header("x-request-id") == value, (
        f"an id of {length} visible characters is valid (1 to MAX_REQUEST_ID_LENGTH = 128)"
    )


BAD_IDS = {
    "too long": b"a" * 129,
    "huge": b"x" * 10_000,
    "newline": b"abc\r\nSet-Cookie: session=INJECTED",
    "terminal escape": b"\x1b[31mINJECTED\x1b[0m",
    "space": b"two INJECTED",
    "nul": b"id\x00INJECTED",
    "not ascii": "caf\u00e9INJECTED".encode(),
    "empty": b"",
}


@pytest.mark.parametrize("raw", BAD_IDS.values(), ids=BAD_IDS.keys())
def test_an_oversized_or_unprintable_id_is_replaced_never_echoed(call, raw: bytes) -> None:
    seen: list[str | None] = []
    app = RequestIdMiddleware(_recording_app(seen))
    reply = asyncio.run(call(app, headers=[(b"x-request-id", raw)]))
    echoed = reply.header("x-request-id")
    assert echoed is not None, (
        "an invalid X-Request-ID (longer than 128 characters, empty, or with characters "
        f"outside '!'..'~') is replaced by a fresh id; got {echoed!r}"
    )
    assert FRESH_ID.match(echoed), (
        "an invalid X-Request-ID (longer than 128 characters, empty, or with characters "
        f"outside '!'..'~') is replaced by a fresh id; got {echoed!r}"
    )
    assert seen == [echoed], "the app sees the replacement, not the refused value"


def test_a_refused_id_is_never_written_to_the_logs(call, caplog) -> None:
    raw = b'evil\r\n{"level": "INFO", "message": "INJECTED"}' + b"A" * 300
    app = RequestIdMiddleware(_recording_app([]))
    with caplog.at_level(logging.DEBUG):
        asyncio.run(call(app, headers=[(b"x-request-id", raw)]))
    for record in caplog.records:
        text = record.getMessage() + " ".join(str(v) for v in vars(record).values())
        assert "INJECTED" not in text, (
            "a refused request id must never reach a log as it came (it is attacker-controlled: "
            f"a forged log line, a flood); the record {record.getMessage()!r} carries it. Log "
            "facts about it - its length - if anything"
        )
        assert "A" * 100 not in text, (
            "a refused request id must never reach a log as it came (it is attacker-controlled: "
            f"a forged log line, a flood); the record {record.getMessage()!r} carries it. Log "
            "facts about it - its length - if anything"
        )


def test_the_id_is_reset_after_the_request(call) -> None:
    app = RequestIdMiddleware(_recording_app([]))
    asyncio.run(call(app, headers=[(b"x-request-id", b"first")]))

    async def main() -> tuple[str | None, str | None]:
        await call(app, headers=[(b"x-request-id", b"inner")])
        return request_ids.current_request_id(), request_ids.request_id_var.get()

    after = asyncio.run(main())
    assert after == (None, None), (
        "after the request, the caller's context must not keep its id: reset the ContextVar "
        "with the token from set(), in a finally"
    )


def test_the_id_is_reset_even_when_the_app_raises(call) -> None:
    async def broken(scope, receive, send) -> None:
        raise RuntimeError("handler bug")

    app = RequestIdMiddleware(broken)

    async def main() -> str | None:
        with pytest.raises(RuntimeError, match="handler bug"):
            await call(app, headers=[(b"x-request-id", b"doomed")])
        return request_ids.current_request_id()

    assert asyncio.run(main()) is None, (
        "the app's exception goes on up, and the id is reset all the same (finally)"
    )


def test_the_apps_own_headers_are_kept(call) -> None:
    app = RequestIdMiddleware(_recording_app([], extra_headers=[(b"x-cache", b"hit")]))
    reply = asyncio.run(call(app, headers=[(b"x-request-id", b"r-9")]))
    assert reply.header("x-cache") == "hit", (
        "echoing the id adds one header; the app's own headers stay"
    )
    assert reply.header("content-type") == "text/plain", (
        "echoing the id adds one header; the app's own headers stay"
    )
    assert reply.all("x-request-id") == ["r-9"], "exactly one X-Request-ID in the response"


def test_other_scopes_pass_through_untouched() -> None:
    seen: list[dict] = []

    async def app(scope, receive, send) -> None:
        seen.append(scope)
        await send({"type": "lifespan.startup.complete"})

    middleware = RequestIdMiddleware(app)
    sent: list[dict] = []

    async def main() -> None:
        async def receive():
            return {"type": "lifespan.startup"}

        async def send(message) -> None:
            sent.append(message)

        await middleware({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)

    asyncio.run(main())
    assert [s["type"] for s in seen] == ["lifespan"], (
        "a lifespan (or websocket) scope has no request id: hand it to the app as it is"
    )
    assert sent == [{"type": "lifespan.startup.complete"}], (
        "a lifespan (or websocket) scope has no request id: hand it to the app as it is"
    )


def test_outgoing_headers_propagate_the_current_id() -> None:
    assert request_ids.outgoing_headers({"Accept": "application/json"}) == {
        "Accept": "application/json"
    }, "outside a request there is no id to send: the headers are returned as given"
    token = request_ids.request_id_var.set("r-42")
    try:
        given = {"Accept": "application/json"}
        assert request_ids.outgoing_headers(given) == {
            "Accept": "application/json",
            "X-Request-ID": "r-42",
        }
        assert given == {"Accept": "application/json"}, "the caller's dict is not changed"
        assert request_ids.outgoing_headers() == {"X-Request-ID": "r-42"}
        assert request_ids.outgoing_headers({"x-request-id": "mine"}) == {"x-request-id": "mine"}, (
            "a caller's own X-Request-ID (in any case) wins and is not duplicated"
        )
    finally:
        request_ids.request_id_var.reset(token)


def test_two_services_share_one_id() -> None:
    """Front calls back with outgoing_headers(); both serve the request under the same id."""
    import httpx
    from fastapi import FastAPI

    back_app, front_app = FastAPI(), FastAPI()
    back_seen: list[str | None] = []

    @back_app.get("/stock/{sku}")
    async def stock(sku: str) -> dict:
        back_seen.append(request_ids.current_request_id())
        return {"sku": sku, "quantity": 3}

    back = RequestIdMiddleware(back_app)

    @front_app.get("/checkout")
    async def checkout() -> dict:
        transport = httpx.ASGITransport(app=back)
        async with httpx.AsyncClient(transport=transport, base_url="http://back") as client:
            reply = await client.get("/stock/mug", headers=request_ids.outgoing_headers())
        return {
            "front": request_ids.current_request_id(),
            "back_echo": reply.headers.get("x-request-id"),
        }

    front = RequestIdMiddleware(front_app)

    async def main() -> httpx.Response:
        transport = httpx.ASGITransport(app=front)
        async with httpx.AsyncClient(transport=transport, base_url="http://front") as client:
            return await client.get("/checkout", headers={"X-Request-ID": "order-flow-1"})

    reply = asyncio.run(main())
    assert reply.status_code == 200
    assert reply.json() == {"front": "order-flow-1", "back_echo": "order-flow-1"}
    assert back_seen == ["order-flow-1"], (
        "the next service sees the same id: send it with outgoing_headers()"
    )
    assert reply.headers["x-request-id"] == "order-flow-1"
