"""12.4 LoadShedder: 503 with a jittered Retry-After beyond max_in_flight; health exempt."""

from __future__ import annotations

import asyncio

import pytest

from journey.targets import load

shedding = load(__file__, "load_shedding")
LoadShedder = shedding.LoadShedder

PATIENCE = 5.0


class Work:
    """A FastAPI app whose /work requests stay in flight until `release` is set."""

    def __init__(self) -> None:
        from fastapi import FastAPI

        self.release = asyncio.Event()
        self.inside = 0
        self.reached = 0
        self.app = FastAPI()

        @self.app.get("/work")
        async def work() -> dict:
            self.reached += 1
            self.inside += 1
            try:
                async with asyncio.timeout(PATIENCE):
                    await self.release.wait()
            finally:
                self.inside -= 1
            return {"done": True}

        @self.app.get("/boom")
        async def boom() -> dict:
            raise RuntimeError("a bug in the handler")

        @self.app.get("/health/live")
        async def live() -> dict:
            return {"status": "ok"}


async def get_shed(client, path: str):
    """A request that should be shed: answered at once, never held by the app."""
    try:
        async with asyncio.timeout(3.0):
            return await client.get(path)
    except TimeoutError:
        pass  # fail below, outside the except block: the report shows our message first
    pytest.fail("the server was full, yet the request was let in to the app (and held)")


async def settle(condition, what: str) -> None:
    async with asyncio.timeout(PATIENCE):
        while not condition():
            await asyncio.sleep(0.001)


def test_beyond_the_limit_requests_get_503_with_retry_after(serve, randoms, http_client) -> None:

    async def main() -> None:
        work = Work()
        shedder = LoadShedder(
            work.app, max_in_flight=2, retry_after=5.0, random=randoms(0.0, 0.999)
        )
        async with serve(shedder) as base, http_client(base_url=base, timeout=10) as c:
            held = [asyncio.create_task(c.get("/work")) for _ in range(2)]
            await settle(lambda: work.inside == 2, "two requests in flight")
            first = await get_shed(c, "/work")
            second = await get_shed(c, "/work")
            assert work.reached == 2, "a shed request never reaches the app"
            work.release.set()
            served = await asyncio.gather(*held)
        assert [r.status_code for r in served] == [200, 200], "the requests in flight finish"
        for shed in (first, second):
            assert shed.status_code == 503, "above max_in_flight the answer is 503"
            assert shed.headers["content-type"].startswith("application/problem+json")
            assert shed.json()["title"] == "Service overloaded"
            assert shed.json()["status"] == 503
        assert [first.headers["retry-after"], second.headers["retry-after"]] == ["5", "10"], (
            "Retry-After is jittered_retry_after(retry_after, random=random): with "
            "random() 0.0 then 0.999 and retry_after=5, '5' then '10'"
        )
        assert shedder.shed == 2, "shed counts the refused requests"

    asyncio.run(main())


def test_exactly_max_in_flight_requests_are_served_at_once(serve, http_client) -> None:
    import httpx

    async def main() -> None:
        work = Work()
        shedder = LoadShedder(work.app, max_in_flight=3)
        limits = httpx.Limits(max_connections=20)
        async with (
            serve(shedder) as base,
            http_client(base_url=base, timeout=10, limits=limits) as c,
        ):
            held = [asyncio.create_task(c.get("/work")) for _ in range(3)]
            await settle(lambda: work.inside == 3, "max_in_flight=3 lets 3 requests in")
            assert shedder.in_flight == 3, "in_flight counts the requests being served"
            extra = await get_shed(c, "/work")
            assert extra.status_code == 503, "the 4th concurrent request is one too many"
            work.release.set()
            await asyncio.gather(*held)
            assert shedder.in_flight == 0, "finished requests stop counting"

    asyncio.run(main())


def test_health_checks_are_never_shed(serve, http_client) -> None:

    async def main() -> None:
        work = Work()
        shedder = LoadShedder(work.app, max_in_flight=1)
        async with serve(shedder) as base, http_client(base_url=base, timeout=10) as c:
            held = asyncio.create_task(c.get("/work"))
            await settle(lambda: work.inside == 1, "the server is full")
            live = await c.get("/health/live")
            assert live.status_code == 200, (
                "an overloaded server still answers its health check: else the orchestrator "
                "kills it for being busy"
            )
            assert shedder.in_flight == 1, "exempt paths are not counted"
            assert shedder.shed == 0
            work.release.set()
            await held

    asyncio.run(main())


def test_a_failing_request_stops_counting(serve, http_client) -> None:

    async def main() -> None:
        work = Work()
        shedder = LoadShedder(work.app, max_in_flight=1)
        async with serve(shedder) as base, http_client(base_url=base, timeout=10) as c:
            for _ in range(3):
                failed = await c.get("/boom")
                assert failed.status_code == 500, (
                    f"each failing request must give its place back; got {failed.status_code}"
                )
            assert shedder.in_flight == 0, "a request whose handler raised must stop counting"
            work.release.set()
            assert (await c.get("/work")).status_code == 200, (
                "after 3 failures the 1 slot is still free"
            )

    asyncio.run(main())


def test_a_cancelled_request_stops_counting() -> None:
    async def main() -> None:
        started = asyncio.Event()

        async def hangs(scope, receive, send) -> None:
            started.set()
            await asyncio.Event().wait()

        shedder = LoadShedder(hangs, max_in_flight=1)
        scope = {"type": "http", "path": "/work", "method": "GET", "headers": []}

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict) -> None:
            pass

        task = asyncio.create_task(shedder(scope, receive, send))
        async with asyncio.timeout(PATIENCE):
            await started.wait()
        assert shedder.in_flight == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert shedder.in_flight == 0, (
            "a cancelled request (client gone, server stopping) must give its place back"
        )

    asyncio.run(main())


def test_other_scopes_go_straight_to_the_app() -> None:
    async def main() -> list[str]:
        seen: list[str] = []

        async def app(scope, receive, send) -> None:
            seen.append(scope["type"])

        shedder = LoadShedder(app, max_in_flight=1)
        shedder.in_flight = 1  # as if full

        async def receive() -> dict:
            return {"type": "lifespan.startup"}

        async def send(message: dict) -> None:
            pass

        await shedder({"type": "lifespan"}, receive, send)
        return seen

    assert asyncio.run(main()) == ["lifespan"], "start-up and shutdown are never shed"


@pytest.mark.parametrize(("limit", "retry_after"), [(0, 1.0), (-3, 1.0), (1, 0.0)])
def test_bad_settings_are_refused(limit: int, retry_after: float) -> None:
    async def app(scope, receive, send) -> None:
        pass

    with pytest.raises(ValueError):  # noqa: PT011
        LoadShedder(app, max_in_flight=limit, retry_after=retry_after)
