"""12.6 IdempotencyMiddleware: one execution per key, the same answer for every repeat.

The app runs for real (uvicorn on loopback) and the records live in the real Redis, under this
test's own key prefix.
"""

# No `from __future__ import annotations` here: FastAPI reads the handlers' annotations
# (Response), which are imported inside the functions, so they must be evaluated in place.
import asyncio
import json
import uuid

import pytest

from journey.targets import load

idem = load(__file__, "idempotency")
KEY = "Idempotency-Key"
PATIENCE = 10.0


def orders_app(redis, prefix: str, **options):
    """A tiny orders service behind the learner's middleware."""
    from fastapi import FastAPI, Response
    from fastapi.responses import JSONResponse

    app = FastAPI()
    app.state.executions = 0
    app.state.hold = None  # an asyncio.Event the handler waits for, when set by the test
    app.state.entered = asyncio.Event()
    app.state.failures_left = 0

    async def maybe_hold() -> None:
        app.state.entered.set()
        if app.state.hold is not None:
            async with asyncio.timeout(PATIENCE):
                await app.state.hold.wait()

    @app.post("/orders", status_code=201)
    async def place(order: dict, response: Response) -> dict:
        app.state.executions += 1
        await maybe_hold()
        order_id = uuid.uuid4().hex  # a new id each time it runs: a repeat must replay this one
        response.headers["Location"] = f"/orders/{order_id}"
        return {"id": order_id, "items": order.get("items"), "execution": app.state.executions}

    @app.post("/flaky")
    async def flaky(order: dict) -> JSONResponse:
        app.state.executions += 1
        await maybe_hold()
        if app.state.failures_left > 0:
            app.state.failures_left -= 1
            return JSONResponse({"title": "inventory unavailable"}, status_code=503)
        return JSONResponse({"placed": True}, status_code=201)

    @app.post("/crash")
    async def crash(order: dict) -> dict:
        app.state.executions += 1
        if app.state.failures_left > 0:
            app.state.failures_left -= 1
            raise RuntimeError("the handler crashed")
        return {"placed": True}

    @app.get("/orders")
    async def list_orders() -> list:
        app.state.executions += 1
        return []

    app.add_middleware(idem.IdempotencyMiddleware, redis=redis, prefix=prefix, **options)
    # Starlette builds the middleware at the first request, inside the server; build it now so
    # that an error in the middleware's __init__ shows here, in the test.
    app.middleware_stack = app.build_middleware_stack()
    return app


class Barrier:
    """ASGI wrapper that holds requests until `count` have arrived, then lets all in at once:
    the requests reach the middleware together, as a burst of retries would."""

    def __init__(self, app, count: int) -> None:
        self.app = app
        self.count = count
        self.arrived = 0
        self.all_here = asyncio.Event()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            self.arrived += 1
            if self.arrived >= self.count:
                self.all_here.set()
            async with asyncio.timeout(PATIENCE):
                await self.all_here.wait()
        await self.app(scope, receive, send)


async def reaches_handler(app, request) -> None:
    """Waits until the handler runs; fails at once if the request ends without reaching it."""
    entered = asyncio.create_task(app.state.entered.wait())
    try:
        await asyncio.wait({entered, request}, timeout=PATIENCE, return_when="FIRST_COMPLETED")
    finally:
        entered.cancel()
    if not app.state.entered.is_set():
        answer = request.result() if request.done() else None
        status = answer.status_code if answer is not None else "none yet"
        raise AssertionError(f"the first request never reached the handler (status {status})")


async def redis_client(redis_space):
    from redis.asyncio import Redis

    return Redis.from_url(redis_space.url, decode_responses=True)


def test_fifty_identical_requests_run_once_and_get_one_answer(
    serve, redis_space, http_client
) -> None:
    import httpx

    async def main() -> tuple[int, list[httpx.Response]]:
        redis = await redis_client(redis_space)
        try:
            # 50 open connections in the client's pool, as in a busy server: each request's
            # first Redis command goes out at once, with no connection to set up first.
            await asyncio.gather(*(redis.ping() for _ in range(50)))
            app = orders_app(redis, redis_space.key("idem"), wait_seconds=PATIENCE)
            limits = httpx.Limits(max_connections=60)
            async with (
                serve(Barrier(app, 50)) as base,
                http_client(base_url=base, timeout=30, limits=limits) as client,
            ):
                headers = {KEY: "order-7f3a", "X-User-ID": "ada"}
                body = {"items": [{"sku": "MUG", "quantity": 2}]}
                answers = await asyncio.gather(
                    *(client.post("/orders", json=body, headers=headers) for _ in range(50))
                )
            return app.state.executions, answers
        finally:
            await redis.aclose()

    executions, answers = asyncio.run(main())
    assert executions == 1, (
        f"50 concurrent requests with one key ran the handler {executions} times: claim the "
        "key in ONE atomic step (SET ... NX), never 'GET, then SET'"
    )
    assert {a.status_code for a in answers} == {201}, "every one of the 50 gets the 201"
    assert len({a.content for a in answers}) == 1, "and exactly the same body, byte for byte"
    replayed = [a for a in answers if a.headers.get("idempotent-replayed") == "true"]
    assert len(replayed) == 49, (
        f"49 answers are replays and say so with 'Idempotent-Replayed: true'; got {len(replayed)}"
    )


def test_a_repeat_gets_the_stored_answer_with_its_headers(serve, redis_space, http_client) -> None:

    async def main() -> None:
        redis = await redis_client(redis_space)
        try:
            app = orders_app(redis, redis_space.key("idem"))
            async with serve(app) as base, http_client(base_url=base, timeout=10) as c:
                body = {"items": [{"sku": "MUG", "quantity": 1}]}
                first = await c.post("/orders", json=body, headers={KEY: "k-1"})
                again = await c.post("/orders", json=body, headers={KEY: "k-1"})
            assert app.state.executions == 1, "the repeat must not run the handler again"
            assert first.status_code == again.status_code == 201
            assert again.content == first.content, "the stored body, byte for byte"
            assert again.headers["location"] == first.headers["location"], (
                "the stored headers come back too (Location names the same order)"
            )
            assert "idempotent-replayed" not in first.headers, "the first answer is not a replay"
            assert again.headers["idempotent-replayed"] == "true"
        finally:
            await redis.aclose()

    asyncio.run(main())


def test_the_same_key_with_a_different_body_is_refused(serve, redis_space, http_client) -> None:

    async def main() -> None:
        redis = await redis_client(redis_space)
        try:
            app = orders_app(redis, redis_space.key("idem"))
            async with serve(app) as base, http_client(base_url=base, timeout=10) as c:
                await c.post("/orders", json={"items": ["mug"]}, headers={KEY: "k-2"})
                other = await c.post("/orders", json={"items": ["teapot"]}, headers={KEY: "k-2"})
                other_path = await c.post("/flaky", json={"items": ["mug"]}, headers={KEY: "k-2"})
            assert other.status_code == 422, "a key reused for another request is a 422"
            assert other.headers["content-type"].startswith("application/problem+json")
            assert "different" in other.json()["detail"], "the detail says the request differs"
            assert other_path.status_code == 422, "the path is part of what the key stands for"
            assert app.state.executions == 1
        finally:
            await redis.aclose()

    asyncio.run(main())


def test_a_different_body_is_refused_even_while_the_first_is_running(
    serve, redis_space, http_client
) -> None:

    async def main() -> None:
        redis = await redis_client(redis_space)
        try:
            app = orders_app(redis, redis_space.key("idem"))
            app.state.hold = asyncio.Event()
            async with serve(app) as base, http_client(base_url=base, timeout=20) as c:
                first = asyncio.create_task(
                    c.post("/orders", json={"items": ["mug"]}, headers={KEY: "k-3"})
                )
                await reaches_handler(app, first)
                other = await c.post("/orders", json={"items": ["pot"]}, headers={KEY: "k-3"})
                app.state.hold.set()
                assert (await first).status_code == 201
            assert other.status_code == 422, "no need to wait: a different request is refused"
        finally:
            await redis.aclose()

    asyncio.run(main())


def test_a_key_still_running_after_wait_seconds_is_a_409(
    serve, redis_space, fake_time, http_client
) -> None:

    async def main() -> None:
        redis = await redis_client(redis_space)
        try:
            app = orders_app(
                redis,
                redis_space.key("idem"),
                wait_seconds=0.5,
                poll_seconds=0.1,
                clock=fake_time.clock,
                sleep=fake_time.sleep,
            )
            app.state.hold = asyncio.Event()
            body = {"items": ["mug"]}
            async with serve(app) as base, http_client(base_url=base, timeout=20) as c:
                first = asyncio.create_task(c.post("/orders", json=body, headers={KEY: "k-4"}))
                await reaches_handler(app, first)
                waiting = await c.post("/orders", json=body, headers={KEY: "k-4"})
                app.state.hold.set()
                done = await first
                later = await c.post("/orders", json=body, headers={KEY: "k-4"})
            assert waiting.status_code == 409, (
                "the first request is still running after wait_seconds: 409, not a 2nd execution"
            )
            assert waiting.headers["retry-after"] == "1"
            assert waiting.json()["title"] == "Request in progress"
            assert fake_time.sleeps, "it polled while waiting"
            assert set(fake_time.sleeps) == {0.1}, (
                "it polled with sleep(poll_seconds) while waiting"
            )
            assert sum(fake_time.sleeps) == pytest.approx(0.5, abs=0.11), (
                "and gave up once wait_seconds had passed on the clock"
            )
            assert done.status_code == 201
            assert later.content == done.content, "once done, the key replays the answer"
            assert app.state.executions == 1
        finally:
            await redis.aclose()

    asyncio.run(main())


def test_a_5xx_answer_is_not_stored_so_a_retry_runs_again(serve, redis_space, http_client) -> None:

    async def main() -> None:
        redis = await redis_client(redis_space)
        try:
            app = orders_app(redis, redis_space.key("idem"))
            app.state.failures_left = 1
            async with serve(app) as base, http_client(base_url=base, timeout=10) as c:
                body = {"items": ["mug"]}
                failed = await c.post("/flaky", json=body, headers={KEY: "k-5"})
                retried = await c.post("/flaky", json=body, headers={KEY: "k-5"})
                replay = await c.post("/flaky", json=body, headers={KEY: "k-5"})
            assert failed.status_code == 503
            assert retried.status_code == 201, (
                "a 503 is a passing failure: the key is given back and the retry runs"
            )
            assert replay.status_code == 201
            assert replay.headers["idempotent-replayed"] == "true"
            assert app.state.executions == 2
        finally:
            await redis.aclose()

    asyncio.run(main())


def test_a_crashed_handler_gives_the_key_back(serve, redis_space, http_client) -> None:

    async def main() -> None:
        redis = await redis_client(redis_space)
        try:
            app = orders_app(redis, redis_space.key("idem"))
            app.state.failures_left = 1
            async with serve(app) as base, http_client(base_url=base, timeout=10) as c:
                crashed = await c.post("/crash", json={}, headers={KEY: "k-6"})
                retried = await c.post("/crash", json={}, headers={KEY: "k-6"})
            assert crashed.status_code == 500
            assert retried.status_code == 200, (
                "after an exception the claim is deleted: the retry runs instead of waiting "
                "for a request that will never finish"
            )
        finally:
            await redis.aclose()

    asyncio.run(main())


def test_requests_without_a_key_or_with_other_methods_pass_through(
    serve, redis_space, http_client
) -> None:

    async def main() -> None:
        redis = await redis_client(redis_space)
        try:
            app = orders_app(redis, redis_space.key("idem"))
            async with serve(app) as base, http_client(base_url=base, timeout=10) as c:
                for _ in range(2):
                    assert (await c.post("/orders", json={"items": []})).status_code == 201
                for _ in range(2):
                    assert (await c.get("/orders", headers={KEY: "k-7"})).status_code == 200
            assert app.state.executions == 4, (
                "no key: nothing to deduplicate; GET is not in methods: it always runs"
            )
            assert await redis.keys(f"{redis_space.key('idem')}*") == [], "and nothing is stored"
        finally:
            await redis.aclose()

    asyncio.run(main())


def test_two_users_may_use_the_same_key(serve, redis_space, http_client) -> None:

    async def main() -> None:
        redis = await redis_client(redis_space)
        try:
            app = orders_app(redis, redis_space.key("idem"))
            async with serve(app) as base, http_client(base_url=base, timeout=10) as c:
                body = {"items": ["mug"]}
                ada = await c.post("/orders", json=body, headers={KEY: "1", "X-User-ID": "ada"})
                bob = await c.post("/orders", json=body, headers={KEY: "1", "X-User-ID": "bob"})
            assert app.state.executions == 2, "keys belong to a caller: ada's key 1 is not bob's"
            assert ada.json()["id"] != bob.json()["id"]
            stored = sorted(await redis.keys(f"{redis_space.key('idem')}*"))
            assert stored == [
                f"{redis_space.key('idem')}:ada:1",
                f"{redis_space.key('idem')}:bob:1",
            ]
        finally:
            await redis.aclose()

    asyncio.run(main())


def test_records_expire_claims_quickly_and_answers_after_ttl(
    serve, redis_space, http_client
) -> None:

    async def main() -> None:
        redis = await redis_client(redis_space)
        try:
            prefix = redis_space.key("idem")
            app = orders_app(redis, prefix, ttl_seconds=600, lock_seconds=20)
            app.state.hold = asyncio.Event()
            async with serve(app) as base, http_client(base_url=base, timeout=10) as c:
                first = asyncio.create_task(c.post("/orders", json={}, headers={KEY: "k-8"}))
                await reaches_handler(app, first)
                running = await redis.get(f"{prefix}:-:k-8")
                lock_ms = await redis.pttl(f"{prefix}:-:k-8")
                app.state.hold.set()
                await first
            assert running is not None
            assert json.loads(running)["state"] == "running"
            assert 0 < lock_ms <= 20_000, (
                f"the running claim expires after lock_seconds (a crashed server must not hold "
                f"the key for ever); its TTL was {lock_ms} ms"
            )
            done_ttl = await redis.ttl(f"{prefix}:-:k-8")
            assert 20 < done_ttl <= 600, f"the stored answer lives ttl_seconds, got {done_ttl}"
            assert json.loads(await redis.get(f"{prefix}:-:k-8"))["state"] == "done"
        finally:
            await redis.aclose()

    asyncio.run(main())


@pytest.mark.parametrize("bad_key", ["", "x" * 256, "naïve"])
def test_a_bad_key_is_a_400(serve, redis_space, bad_key: str, http_client) -> None:

    async def main() -> None:
        redis = await redis_client(redis_space)
        try:
            app = orders_app(redis, redis_space.key("idem"))
            async with serve(app) as base, http_client(base_url=base, timeout=10) as c:
                answer = await c.post(
                    "/orders", json={}, headers=[(KEY.encode(), bad_key.encode("utf-8"))]
                )
            assert answer.status_code == 400, f"{bad_key[:20]!r} is not a usable key: 400"
            assert app.state.executions == 0
        finally:
            await redis.aclose()

    asyncio.run(main())


def test_a_late_failure_never_deletes_another_requests_claim(
    serve, redis_space, http_client
) -> None:
    """A claims, runs too long, its claim expires, B claims; then A fails. A must delete
    only its own claim: deleting B's would let a third request run the order a third time."""

    async def main() -> None:
        redis = await redis_client(redis_space)
        try:
            prefix = redis_space.key("idem")
            app = orders_app(redis, prefix, lock_seconds=0.1)
            app.state.hold = asyncio.Event()
            app.state.failures_left = 1
            body = {"items": ["mug"]}
            async with serve(app) as base, http_client(base_url=base, timeout=20) as c:
                a = asyncio.create_task(c.post("/flaky", json=body, headers={KEY: "k-9"}))
                await reaches_handler(app, a)
                async with asyncio.timeout(PATIENCE):
                    while await redis.exists(f"{prefix}:-:k-9"):  # A's claim expires
                        await asyncio.sleep(0.02)
                app.state.entered.clear()
                b = asyncio.create_task(c.post("/flaky", json=body, headers={KEY: "k-9"}))
                await reaches_handler(app, b)  # B claimed the key and is running
                b_claim = await redis.get(f"{prefix}:-:k-9")
                await redis.pexpire(f"{prefix}:-:k-9", 20_000)  # B's claim lasts out the test
                app.state.hold.set()  # A answers 503 (and B 201), A first: it was first in
                a_answer = await a
                after_a = await redis.get(f"{prefix}:-:k-9")
                await b
            assert a_answer.status_code == 503
            assert b_claim is not None
            assert after_a is not None, (
                "A's failure deleted the key although the claim there was B's: delete only "
                "if the record is still yours (compare and delete in one step, e.g. Lua)"
            )
        finally:
            await redis.aclose()

    asyncio.run(main())
