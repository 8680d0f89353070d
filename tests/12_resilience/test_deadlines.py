"""12.5 Deadlines: a budget that travels in a header, and services that give up when it is spent.

The end-to-end tests run two real HTTP services on loopback: a front service that calls a
back service, both behind the learner's DeadlineMiddleware.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from journey.targets import load

deadlines = load(__file__, "deadlines")
Deadline = deadlines.Deadline
HEADER = "X-Request-Budget-Ms"
PATIENCE = 5.0


# -- the Deadline value ---------------------------------------------------------------------


def test_a_deadline_counts_down_on_its_clock(fake_time) -> None:
    deadline = Deadline.after(2.0, clock=fake_time.clock)
    assert deadline.remaining() == pytest.approx(2.0)
    assert not deadline.expired
    fake_time.advance(1.5)
    assert deadline.remaining() == pytest.approx(0.5), "remaining() follows the clock"
    fake_time.advance(0.5)
    assert deadline.expired, "expired once the clock reaches expires_at"
    fake_time.advance(3)
    assert deadline.remaining() == 0.0, "remaining() is never negative"


def test_the_header_value_is_the_time_left_in_whole_milliseconds_rounded_down(fake_time) -> None:
    deadline = Deadline.after(1.2349, clock=fake_time.clock)
    assert deadline.to_header() == "1234", "1.2349 s left is '1234' ms: never promise more"
    fake_time.advance(5)
    assert deadline.to_header() == "0"


def test_shorten_keeps_the_earlier_of_two_deadlines(fake_time) -> None:
    deadline = Deadline.after(3.0, clock=fake_time.clock)
    assert deadline.shorten(1.0).remaining() == pytest.approx(1.0), "1 s is sooner than 3 s"
    assert deadline.shorten(10.0).remaining() == pytest.approx(3.0), (
        "a call may get less time than its caller allows, never more"
    )


def test_from_header_reads_milliseconds(fake_time) -> None:
    read = Deadline.from_header(" 250 ", default=5.0, maximum=30.0, clock=fake_time.clock)
    assert read.remaining() == pytest.approx(0.25), "'250' ms is 0.25 s (spaces allowed)"


def test_from_header_without_a_header_uses_the_default(fake_time) -> None:
    read = Deadline.from_header(None, default=5.0, maximum=30.0, clock=fake_time.clock)
    assert read.remaining() == pytest.approx(5.0)


def test_from_header_caps_the_budget_at_the_maximum(fake_time) -> None:
    read = Deadline.from_header("999999999", default=5.0, maximum=30.0, clock=fake_time.clock)
    assert read.remaining() == pytest.approx(30.0), (
        "a caller cannot make a service work for an hour: the budget is cut to maximum"
    )


@pytest.mark.parametrize("value", ["abc", "-5", "1.5", "", "10ms", "+3"])
def test_from_header_refuses_what_is_not_whole_milliseconds(fake_time, value: str) -> None:
    with pytest.raises(deadlines.InvalidDeadline, match=HEADER):
        Deadline.from_header(value, default=5.0, maximum=30.0, clock=fake_time.clock)


def test_a_deadline_in_the_past_is_refused(fake_time) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        Deadline.after(-1, clock=fake_time.clock)


# -- the middleware, on one service ---------------------------------------------------------


def budget_app(fake_time=None, guarded: bool = True, **options):
    """A FastAPI app behind DeadlineMiddleware (unless not `guarded`), with routes that report
    and misbehave."""
    from fastapi import FastAPI

    app = FastAPI()
    app.state.calls = 0
    app.state.cancelled = asyncio.Event()

    @app.get("/remaining")
    async def remaining() -> dict:
        app.state.calls += 1
        deadline = deadlines.current_deadline.get()
        return {"remaining": None if deadline is None else deadline.remaining()}

    @app.get("/hang")
    async def hang() -> dict:
        app.state.calls += 1
        try:
            async with asyncio.timeout(PATIENCE):  # never for ever, even when the test fails
                await asyncio.Event().wait()
        except asyncio.CancelledError:
            app.state.cancelled.set()
            raise
        return {"finished": "too late"}

    @app.get("/gave-up-further-down")
    async def gave_up() -> dict:
        raise deadlines.DeadlineExceeded("the service behind me ran out of time")

    @app.get("/own-timeout")
    async def own_timeout() -> dict:
        raise TimeoutError("a bug of this handler, not the request's deadline")

    if fake_time is not None:
        options["clock"] = fake_time.clock
    if guarded:
        app.add_middleware(deadlines.DeadlineMiddleware, **options)
        app.middleware_stack = app.build_middleware_stack()  # build it now, in the test
    return app


def test_the_handler_sees_the_callers_budget(serve, fake_time, http_client) -> None:

    async def main() -> None:
        app = budget_app(fake_time, default_seconds=5.0, max_seconds=30.0)
        async with serve(app) as base, http_client(base_url=base, timeout=10) as c:
            given = await c.get("/remaining", headers={HEADER: "1500"})
            default = await c.get("/remaining")
        assert given.json()["remaining"] == pytest.approx(1.5), (
            "current_deadline holds the caller's budget while the handler runs"
        )
        assert default.json()["remaining"] == pytest.approx(5.0), (
            "without the header, the budget is default_seconds"
        )

    asyncio.run(main())


def test_a_bad_header_is_a_400_and_the_handler_never_runs(serve, http_client) -> None:

    async def main() -> None:
        app = budget_app()
        async with serve(app) as base, http_client(base_url=base, timeout=10) as c:
            bad = await c.get("/remaining", headers={HEADER: "soon"})
        assert bad.status_code == 400
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert HEADER in bad.json()["detail"], "the problem says which header is wrong"
        assert app.state.calls == 0

    asyncio.run(main())


def test_a_budget_spent_on_arrival_is_a_504_without_running_the_handler(serve, http_client) -> None:

    async def main() -> None:
        app = budget_app()
        async with serve(app) as base, http_client(base_url=base, timeout=10) as c:
            late = await c.get("/remaining", headers={HEADER: "0"})
        assert late.status_code == 504, "nobody is waiting for this answer any more"
        assert app.state.calls == 0, "so none of the work is done"

    asyncio.run(main())


def test_a_handler_that_runs_past_the_budget_is_cancelled_and_answered_504(
    serve, http_client
) -> None:

    async def main() -> float:
        app = budget_app()
        async with serve(app) as base, http_client(base_url=base, timeout=10) as c:
            started = time.perf_counter()
            late = await c.get("/hang", headers={HEADER: "120"})
            elapsed = time.perf_counter() - started
            assert late.status_code == 504, (
                "the handler ran past its 120 ms budget: cut it off and answer 504"
            )
            assert late.json()["title"] == "Deadline exceeded"
            assert app.state.calls == 1, "the budget was not spent on arrival: the handler ran"
            async with asyncio.timeout(PATIENCE):
                await app.state.cancelled.wait()  # the handler was cancelled, not left running
        return elapsed

    elapsed = asyncio.run(main())
    assert elapsed < 3.0, f"a 120 ms budget must end the request soon after, it took {elapsed}s"


def test_deadline_exceeded_from_further_down_is_a_504(serve, http_client) -> None:

    async def main() -> None:
        app = budget_app()
        async with serve(app) as base, http_client(base_url=base, timeout=10) as c:
            answer = await c.get("/gave-up-further-down", headers={HEADER: "1000"})
        assert answer.status_code == 504, "DeadlineExceeded raised by a handler is a 504"

    asyncio.run(main())


def test_the_apps_own_timeout_error_is_not_disguised_as_a_504(serve, http_client) -> None:

    async def main() -> None:
        app = budget_app()
        async with serve(app) as base, http_client(base_url=base, timeout=10) as c:
            fine = await c.get("/remaining", headers={HEADER: "5000"})
            answer = await c.get("/own-timeout", headers={HEADER: "5000"})
        assert fine.status_code == 200, "a request within its budget is served as usual"
        assert answer.status_code == 500, (
            "the handler raised TimeoutError itself, long before the deadline: that is a bug "
            "to report as it is, not a spent budget"
        )

    asyncio.run(main())


def test_the_deadline_is_cleared_after_the_request(fake_time) -> None:
    async def main() -> None:
        seen = []

        async def app(scope, receive, send) -> None:
            seen.append(deadlines.current_deadline.get())
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict) -> None:
            pass

        middleware = deadlines.DeadlineMiddleware(app, clock=fake_time.clock)
        scope = {
            "type": "http",
            "path": "/",
            "method": "GET",
            "headers": [(b"x-request-budget-ms", b"800")],
        }
        await middleware(scope, receive, send)
        assert seen[0] is not None
        assert seen[0].remaining() == pytest.approx(0.8)
        assert deadlines.current_deadline.get() is None, (
            "after the request, current_deadline is reset (ContextVar.reset(token))"
        )

    asyncio.run(main())


# -- call_with_deadline ---------------------------------------------------------------------


def test_a_call_carries_the_time_left(fake_time) -> None:
    import httpx

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    async def main() -> None:
        deadline = Deadline.after(2.0, clock=fake_time.clock)
        fake_time.advance(0.75)
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            await deadlines.call_with_deadline(
                client,
                "POST",
                "http://inventory.test/reserve",
                deadline=deadline,
                headers={"X-Request-ID": "r-1"},
                json={"sku": "MUG"},
            )

    asyncio.run(main())
    request = seen[0]
    assert request.headers[HEADER] == "1250", "2 s minus the 0.75 s already spent: '1250' ms"
    assert request.headers["X-Request-ID"] == "r-1", "the caller's own headers are kept"
    assert b"MUG" in request.content, "extra keyword arguments (json=) reach client.request"
    assert request.extensions["timeout"]["read"] == pytest.approx(1.25), (
        "the httpx timeout is the time left, not some fixed number"
    )


def test_an_expired_deadline_sends_nothing(fake_time) -> None:
    import httpx

    seen: list[httpx.Request] = []

    async def main() -> None:
        deadline = Deadline.after(0.5, clock=fake_time.clock)
        fake_time.advance(0.5)
        transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200))
        async with httpx.AsyncClient(transport=transport) as client:
            await deadlines.call_with_deadline(client, "GET", "http://x.test/", deadline=deadline)

    with pytest.raises(deadlines.DeadlineExceeded):
        asyncio.run(main())
    assert seen == [], "with no time left, the request is not even sent"


def test_a_call_without_any_deadline_is_refused() -> None:
    import httpx

    async def main() -> None:
        async with httpx.AsyncClient(
            transport=httpx.MockTransport(lambda r: httpx.Response(200))
        ) as client:
            await deadlines.call_with_deadline(client, "GET", "http://x.test/")

    with pytest.raises(ValueError, match="deadline"):
        asyncio.run(main())


def test_a_slow_answer_becomes_deadline_exceeded(serve, http_client) -> None:
    import httpx

    async def main() -> None:
        app = budget_app(guarded=False)  # a service that ignores deadlines
        async with serve(app) as base, http_client(base_url=base) as client:
            deadline = Deadline.after(0.1)
            with pytest.raises(deadlines.DeadlineExceeded) as caught:
                await deadlines.call_with_deadline(client, "GET", "/hang", deadline=deadline)
        assert isinstance(caught.value.__cause__, httpx.TimeoutException), (
            "raise DeadlineExceeded from the httpx timeout"
        )

    asyncio.run(main())


# -- two services ---------------------------------------------------------------------------


def front_app(back_url: str, http_client, fake_time=None):
    """The front service: does some work (on the fake clock), then calls the back service."""
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    app = FastAPI()

    @app.get("/checkout")
    async def checkout(spend: float = 0.0, path: str = "/remaining") -> JSONResponse:
        if fake_time is not None:
            fake_time.advance(spend)  # the front service's own work takes `spend` seconds
        async with http_client(base_url=back_url) as client:
            answer = await deadlines.call_with_deadline(client, "GET", path)
        return JSONResponse(answer.json(), status_code=answer.status_code)

    options = {"clock": fake_time.clock} if fake_time is not None else {}
    app.add_middleware(deadlines.DeadlineMiddleware, **options)
    app.middleware_stack = app.build_middleware_stack()
    return app


def test_the_back_service_gets_what_the_front_service_left(serve, fake_time, http_client) -> None:

    async def main() -> None:
        back = budget_app(fake_time)
        async with (
            serve(back) as back_url,
            serve(front_app(back_url, http_client, fake_time)) as front_url,
            http_client(base_url=front_url, timeout=10) as c,
        ):
            answer = await c.get("/checkout?spend=0.25", headers={HEADER: "1000"})
        assert answer.status_code == 200
        assert answer.json()["remaining"] == pytest.approx(0.75), (
            "the client allowed 1000 ms, the front service spent 250: the back service must "
            "get 750 ms, not a fresh budget of its own"
        )

    asyncio.run(main())


def test_when_the_front_service_spent_the_budget_the_back_service_is_not_called(
    serve, fake_time, http_client
) -> None:

    async def main() -> None:
        back = back_app = budget_app(fake_time)
        async with (
            serve(back) as back_url,
            serve(front_app(back_url, http_client, fake_time)) as front_url,
            http_client(base_url=front_url, timeout=10) as c,
        ):
            answer = await c.get("/checkout?spend=0.5", headers={HEADER: "500"})
        assert answer.status_code == 504, "the budget was spent before the call: 504"
        assert back_app.state.calls == 0, "and the back service never saw the request"

    asyncio.run(main())


def test_a_hung_back_service_gives_up_when_the_budget_is_spent(serve, http_client) -> None:

    async def main() -> float:
        back = back_app = budget_app()
        async with serve(back) as back_url, serve(front_app(back_url, http_client)) as front_url:
            async with http_client(base_url=front_url, timeout=10) as c:
                started = time.perf_counter()
                answer = await c.get("/checkout?path=/hang", headers={HEADER: "150"})
                elapsed = time.perf_counter() - started
            assert answer.status_code == 504, "the client gets a 504 from the front service"
            if back_app.state.calls:  # (on a very busy machine the budget may run out first)
                async with asyncio.timeout(PATIENCE):
                    await back_app.state.cancelled.wait()  # the back service stopped its work
        return elapsed

    elapsed = asyncio.run(main())
    assert elapsed < 3.0, f"a 150 ms budget must end the request soon after, it took {elapsed}s"
