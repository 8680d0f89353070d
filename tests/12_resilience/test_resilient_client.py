"""12.9 ResilientClient: deadline, retries with full jitter, a breaker per downstream.

Most tests run on a fake clock (its sleep moves the clock instead of waiting). The last ones
call real loopback services: an HTTP service whose first answer is lost on the way back (the
idempotency key makes the retry safe), a gRPC server that is briefly UNAVAILABLE, and a
gateway whose downstream is down (503 with Retry-After, never 500).
"""

# No `from __future__ import annotations`: FastAPI evaluates the test app's annotations.
import asyncio
import time

import pytest

from journey.targets import load

rc = load(__file__, "resilient_client")
breakers = load(__file__, "circuit_breaker")
deadlines = load(__file__, "deadlines")
policies = load(__file__, "retry_policy")
Unavailable = policies.DependencyUnavailable
PATIENCE = 5.0


class Script:
    """An operation that plays its outcomes in turn: an exception is raised, anything else is
    returned; `spend` seconds of the fake clock pass during each attempt. Records attempts."""

    def __init__(self, *outcomes, fake_time=None, spend: float = 0.0) -> None:
        self.outcomes = list(outcomes)
        self.attempts = []
        self.timeouts = []
        self.fake_time = fake_time
        self.spend = spend

    async def __call__(self, attempt):
        self.attempts.append(attempt)
        self.timeouts.append(attempt.timeout)
        if self.fake_time is not None:
            self.fake_time.advance(self.spend)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def make_client(fake_time, random=lambda: 0.5, **options):
    options.setdefault("timeout", 2.0)
    options.setdefault("policy", policies.RetryPolicy(attempts=3, base_delay=0.1, max_delay=1.0))
    return rc.ResilientClient(
        "inventory", clock=fake_time.clock, sleep=fake_time.sleep, random=random, **options
    )


def make_breaker(fake_time, **options):
    options.setdefault("failure_threshold", 3)
    options.setdefault("reset_timeout", 30.0)
    return breakers.CircuitBreaker("inventory", clock=fake_time.clock, **options)


# -- retries and jitter ---------------------------------------------------------------------


def test_a_call_that_works_runs_once(fake_time) -> None:
    op = Script({"reserved": True})
    result = asyncio.run(make_client(fake_time).call(op))
    assert result == {"reserved": True}, "call() returns what the operation returned"
    assert [a.number for a in op.attempts] == [1]
    assert op.timeouts == [pytest.approx(2.0)], "the attempt is told the whole timeout"
    assert fake_time.sleeps == []


def test_retryable_failures_are_retried_with_full_jitter(fake_time) -> None:
    op = Script(ConnectionError("refused"), TimeoutError("slow"), "ok")
    assert asyncio.run(make_client(fake_time).call(op)) == "ok"
    assert [a.number for a in op.attempts] == [1, 2, 3], "attempts are numbered from 1"
    assert fake_time.sleeps == pytest.approx([0.05, 0.1]), (
        "pauses come from policy.next_delay with the injected random (0.5): 0.5 * 0.1, "
        f"then 0.5 * 0.2; got {fake_time.sleeps}"
    )


def test_each_attempt_is_told_the_time_left(fake_time) -> None:
    op = Script(ConnectionError(), ConnectionError(), "ok", fake_time=fake_time, spend=0.5)
    asyncio.run(make_client(fake_time).call(op))
    assert op.timeouts == pytest.approx([2.0, 1.45, 0.85]), (
        "each attempt's timeout is what is left of ONE deadline for the whole call: "
        "2.0, then 2.0 - 0.5 - 0.05, then 2.0 - 1.0 - 0.15"
    )


def test_an_error_that_is_not_retryable_goes_up_unchanged(fake_time) -> None:
    breaker = make_breaker(fake_time, failure_threshold=2)
    client = make_client(fake_time, breaker=breaker)
    refusal = LookupError("insufficient stock")
    for _ in range(5):
        op = Script(refusal)
        with pytest.raises(LookupError) as caught:
            asyncio.run(client.call(op))
        assert caught.value is refusal, "a business answer is raised as it is, not wrapped"
        assert len(op.attempts) == 1, "and never retried"
    assert breaker.state == breakers.State.CLOSED, (
        "'insufficient stock' is an answer from a healthy service: it must not trip the breaker"
    )
    assert fake_time.sleeps == []


def test_when_retries_run_out_it_is_dependency_unavailable(fake_time) -> None:
    last = ConnectionError("third")
    op = Script(ConnectionError("first"), ConnectionError("second"), last)
    with pytest.raises(Unavailable) as caught:
        asyncio.run(make_client(fake_time, retry_after=3.0).call(op))
    error = caught.value
    assert error.reason == "retries exhausted", f"reason should say why, got {error.reason!r}"
    assert error.downstream == "inventory"
    assert "inventory" in str(error)
    assert error.__cause__ is last, "raise DependencyUnavailable(...) from the last error"
    assert error.retry_after == 5, (
        "retry_after is jittered_retry_after(retry_after=3.0, random=...) = 3 + floor(0.5 * 4)"
    )
    assert len(op.attempts) == 3


def test_it_never_sleeps_past_the_deadline(fake_time) -> None:
    policy = policies.RetryPolicy(attempts=5, base_delay=0.4, max_delay=10.0)
    op = Script(ConnectionError(), fake_time=fake_time, spend=0.3)
    client = make_client(fake_time, timeout=1.0, policy=policy, random=lambda: 0.99)
    started = fake_time.now
    with pytest.raises(Unavailable) as caught:
        asyncio.run(client.call(op))
    assert caught.value.reason == "deadline exceeded", (
        "the next pause would end after the deadline: give up now, reason 'deadline exceeded'"
    )
    assert len(op.attempts) == 2, (
        "attempt 1 (0.3 s), pause 0.396 s, attempt 2 (0.3 s): 0.004 s left, and the next pause "
        "(0.792 s) would pass the deadline"
    )
    assert fake_time.now - started <= 1.0, "the whole call stayed inside its 1 s"


def test_a_deadline_already_spent_makes_no_attempt(fake_time) -> None:
    deadline = deadlines.Deadline.after(1.0, clock=fake_time.clock)
    fake_time.advance(1.0)
    op = Script("ok")
    with pytest.raises(Unavailable) as caught:
        asyncio.run(make_client(fake_time).call(op, deadline=deadline))
    assert caught.value.reason == "deadline exceeded"
    assert op.attempts == [], "no time left: the downstream is not even called"


def test_the_shorter_of_the_callers_deadline_and_the_timeout_wins(fake_time) -> None:
    client = make_client(fake_time, timeout=2.0)
    short, long = Script("ok"), Script("ok")
    asyncio.run(client.call(short, deadline=deadlines.Deadline.after(0.5, clock=fake_time.clock)))
    asyncio.run(client.call(long, deadline=deadlines.Deadline.after(60, clock=fake_time.clock)))
    assert short.timeouts == [pytest.approx(0.5)], "the caller has only 0.5 s left: use that"
    assert short.attempts[0].deadline.to_header() == "500", "and it travels on (12.5)"
    assert long.timeouts == [pytest.approx(2.0)], (
        "the caller allows 60 s, but this client never takes more than its own timeout"
    )


def test_a_hung_attempt_is_cut_off_at_the_deadline() -> None:
    cancelled = []

    async def hangs(attempt):
        try:
            async with asyncio.timeout(PATIENCE):  # never for ever, even if the test fails
                await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(attempt.number)
            raise

    async def main():
        client = rc.ResilientClient("inventory", timeout=0.15)  # the real clock and sleep
        started = time.perf_counter()
        with pytest.raises(Unavailable) as caught:
            await client.call(hangs)
        return caught.value, time.perf_counter() - started, client

    error, elapsed, client = asyncio.run(main())
    assert error.reason == "deadline exceeded"
    assert cancelled == [1], "the hung attempt is cancelled when the deadline passes"
    assert elapsed < 3.0, f"a 0.15 s deadline must end the call soon after; it took {elapsed}s"
    assert client.breaker.failures == 1, "a timed-out attempt is a failure for the breaker"


# -- the circuit breaker --------------------------------------------------------------------


def test_after_enough_failures_calls_fail_fast(fake_time) -> None:
    breaker = make_breaker(fake_time, failure_threshold=3, reset_timeout=30.0)
    client = make_client(
        fake_time, breaker=breaker, policy=policies.RetryPolicy(attempts=1), random=lambda: 0.0
    )
    for _ in range(3):
        with pytest.raises(Unavailable):
            asyncio.run(client.call(Script(ConnectionError())))
    op = Script("ok")
    with pytest.raises(Unavailable) as caught:
        asyncio.run(client.call(op))
    assert op.attempts == [], "the breaker is open: the call is refused without being sent"
    assert caught.value.reason == "circuit open"
    assert caught.value.retry_after == 30, (
        "come back when a probe may go: jittered_retry_after(max(retry_after, 30 s left))"
    )


def test_retries_stop_as_soon_as_the_breaker_opens(fake_time) -> None:
    breaker = make_breaker(fake_time, failure_threshold=2)
    policy = policies.RetryPolicy(attempts=5, base_delay=0.01, max_delay=0.01)
    client = make_client(fake_time, breaker=breaker, policy=policy)
    op = Script(ConnectionError())
    with pytest.raises(Unavailable) as caught:
        asyncio.run(client.call(op))
    assert len(op.attempts) == 2, "every failed attempt counts: the 2nd opens the breaker"
    assert caught.value.reason == "circuit open", "and the 3rd attempt is refused by it"


def test_after_reset_timeout_a_probe_goes_and_a_success_closes(fake_time) -> None:
    breaker = make_breaker(fake_time, failure_threshold=1, reset_timeout=30.0)
    client = make_client(fake_time, breaker=breaker, policy=policies.RetryPolicy(attempts=1))
    with pytest.raises(Unavailable):
        asyncio.run(client.call(Script(ConnectionError())))
    assert breaker.state == breakers.State.OPEN
    fake_time.advance(30.0)
    assert asyncio.run(client.call(Script("back"))) == "back", "the probe goes through"
    assert breaker.state == breakers.State.CLOSED, "and its success closes the breaker"


def test_a_cancelled_probe_gives_its_slot_back(fake_time) -> None:
    breaker = make_breaker(fake_time, failure_threshold=1)
    client = make_client(fake_time, breaker=breaker, policy=policies.RetryPolicy(attempts=1))
    with pytest.raises(Unavailable):
        asyncio.run(client.call(Script(ConnectionError())))
    fake_time.advance(30.0)

    async def main() -> None:
        started = asyncio.Event()

        async def slow(attempt):
            started.set()
            async with asyncio.timeout(PATIENCE):
                await asyncio.Event().wait()

        task = asyncio.create_task(client.call(slow))
        async with asyncio.timeout(PATIENCE):
            await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task  # a cancellation stays a cancellation

    asyncio.run(main())
    assert breaker.state == breakers.State.HALF_OPEN, "a cancelled probe gives no verdict"
    breaker.acquire()  # must not raise: the probe's slot was released (breaker.release())


def test_each_downstream_has_its_own_breaker(fake_time) -> None:
    policy = policies.RetryPolicy(attempts=1)
    inventory = rc.ResilientClient(
        "inventory", timeout=1.0, policy=policy, clock=fake_time.clock, sleep=fake_time.sleep
    )
    catalog = rc.ResilientClient(
        "catalog", timeout=1.0, policy=policy, clock=fake_time.clock, sleep=fake_time.sleep
    )
    assert inventory.breaker is not catalog.breaker, "one breaker per downstream"
    for _ in range(inventory.breaker.failure_threshold):
        with pytest.raises(Unavailable):
            asyncio.run(inventory.call(Script(ConnectionError())))
    assert inventory.breaker.state == breakers.State.OPEN
    assert asyncio.run(catalog.call(Script("fine"))) == "fine", (
        "inventory being down must not stop the calls to catalog"
    )
    assert inventory.breaker.name == "inventory", "the breaker is named after its downstream"


# -- idempotency keys -----------------------------------------------------------------------


def test_every_attempt_of_a_call_carries_the_same_idempotency_key(fake_time) -> None:
    client = make_client(fake_time)
    first, second, given = Script(ConnectionError(), "ok"), Script("ok"), Script(TimeoutError(), 1)
    asyncio.run(client.call(first))
    asyncio.run(client.call(second))
    asyncio.run(client.call(given, idempotency_key="order-42"))
    keys = [a.idempotency_key for a in first.attempts]
    assert len(keys[0]) >= 16, "a fresh key is a uuid4().hex"
    assert keys[0] == keys[1], (
        "a retry must carry the key of the first try: that is what makes retrying a POST safe"
    )
    assert second.attempts[0].idempotency_key != keys[0], "each call gets a new key"
    assert [a.idempotency_key for a in given.attempts] == ["order-42", "order-42"], (
        "a key given by the caller is used as it is"
    )


def test_bad_settings_are_refused(fake_time) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        make_client(fake_time, timeout=0)


# -- real services --------------------------------------------------------------------------


def test_a_post_whose_answer_was_lost_is_retried_and_done_once(
    serve, redis_space, http_client
) -> None:
    """The order reaches the service, but the answer is lost on the way back. The client
    retries with the same Idempotency-Key: the service replays its answer instead of placing
    the order twice (the idempotency middleware of 12.6 and the deadline middleware of 12.5)."""
    import httpx
    from fastapi import FastAPI
    from redis.asyncio import Redis

    idem = load(__file__, "idempotency")

    class LosesFirstAnswer(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.AsyncHTTPTransport()
            self.lost = 0

        async def handle_async_request(self, request):
            response = await self.inner.handle_async_request(request)
            if self.lost == 0:
                self.lost += 1
                await response.aread()
                await response.aclose()
                raise httpx.ReadError("connection reset before the answer came", request=request)
            return response

        async def aclose(self) -> None:
            await self.inner.aclose()

    async def main():
        redis = Redis.from_url(redis_space.url, decode_responses=True)
        app = FastAPI()
        app.state.placed = 0
        app.state.budgets = []

        @app.post("/orders", status_code=201)
        async def place(order: dict) -> dict:
            app.state.placed += 1
            app.state.budgets.append(deadlines.current_deadline.get().remaining())
            return {"order": app.state.placed, "items": order["items"]}

        app.add_middleware(idem.IdempotencyMiddleware, redis=redis, prefix=redis_space.key("i"))
        app.add_middleware(deadlines.DeadlineMiddleware)
        app.middleware_stack = app.build_middleware_stack()  # build it now, in the test
        policy = policies.RetryPolicy(
            attempts=3, base_delay=0.01, retryable=policies.retryable_http
        )
        client = rc.ResilientClient("orders", timeout=5.0, policy=policy)
        try:
            async with (
                serve(app) as base,
                http_client(base_url=base, transport=LosesFirstAnswer()) as http,
            ):

                async def place_order(attempt):
                    response = await http.post(
                        "/orders",
                        json={"items": ["mug"]},
                        headers=attempt.headers(),
                        timeout=attempt.timeout,
                    )
                    response.raise_for_status()
                    return response

                answer = await client.call(place_order)
            return answer, app.state.placed, app.state.budgets
        finally:
            await redis.aclose()

    answer, placed, budgets = asyncio.run(main())
    assert placed == 1, (
        f"the order was placed {placed} times: the retry must send the same Idempotency-Key"
    )
    assert answer.status_code == 201
    assert answer.json() == {"order": 1, "items": ["mug"]}
    assert answer.headers["idempotent-replayed"] == "true", "the retry got the stored answer"
    assert 0 < budgets[0] <= 5.0, "the service got the call's deadline in the budget header"


def test_a_grpc_call_is_retried_through_unavailable(grpc_server, fake_time) -> None:
    import grpc

    seen = []

    async def reserve(request: bytes, context) -> bytes:
        seen.append(context.time_remaining())
        if len(seen) < 3:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "inventory is restarting")
        return b"reserved " + request

    async def no_stock(request: bytes, context) -> bytes:
        seen.append(context.time_remaining())
        await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "insufficient stock")

    async def main():
        policy = policies.RetryPolicy(attempts=4, retryable=policies.retryable_grpc)
        client = make_client(fake_time, timeout=5.0, policy=policy)
        async with (
            grpc_server({"Reserve": reserve, "NoStock": no_stock}) as target,
            grpc.aio.insecure_channel(target) as channel,
        ):
            stub = channel.unary_unary("/test.Flaky/Reserve")
            reply = await client.call(
                lambda a: stub(a.idempotency_key.encode(), timeout=a.timeout),
                idempotency_key="order-9",
            )
            refused = channel.unary_unary("/test.Flaky/NoStock")
            with pytest.raises(grpc.RpcError) as caught:
                await client.call(lambda a: refused(b"", timeout=a.timeout))
        return reply, caught.value

    reply, refusal = asyncio.run(main())
    assert reply == b"reserved order-9", "UNAVAILABLE twice, then the third attempt works"
    assert len(seen) == 4, "3 attempts of Reserve, and 1 (never retried) of NoStock"
    # gRPC rounds the timeout it sends up a little: allow for that, not for a missing one
    assert all(left is not None and 0 < left <= 5.5 for left in seen), (
        f"every gRPC attempt carries the call's deadline (timeout=attempt.timeout); saw {seen}"
    )
    assert refusal.code() == grpc.StatusCode.FAILED_PRECONDITION, (
        "FAILED_PRECONDITION is an answer: it reaches the caller unchanged, to become a 409"
    )


def test_a_downstream_that_is_down_becomes_a_503_not_a_500(serve, closed_port, http_client) -> None:
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    policy = policies.RetryPolicy(attempts=3, base_delay=0.01, retryable=policies.retryable_http)
    catalog = rc.ResilientClient("catalog", timeout=2.0, policy=policy)
    app = FastAPI()

    @app.exception_handler(policies.DependencyUnavailable)
    async def unavailable(request, error):
        return JSONResponse(
            {"title": "Service unavailable", "status": 503, "detail": str(error)},
            status_code=503,
            headers={"Retry-After": str(error.retry_after)},
            media_type="application/problem+json",
        )

    @app.get("/products/{product_id}")
    async def product(product_id: int):
        async with http_client(base_url=f"http://127.0.0.1:{closed_port}") as http:

            async def fetch(attempt):
                return await http.get(f"/products/{product_id}", timeout=attempt.timeout)

            return (await catalog.call(fetch)).json()

    async def main():
        async with serve(app) as base, http_client(base_url=base, timeout=10) as c:
            return await c.get("/products/7")

    answer = asyncio.run(main())
    assert answer.status_code == 503, (
        "a refused connection must surface as DependencyUnavailable (which the service maps "
        f"to 503), not as an httpx error (a 500); got {answer.status_code}"
    )
    assert int(answer.headers["retry-after"]) >= 1
    assert "catalog" in answer.json()["detail"]
