"""05.5 TokenBucket: bursts up to capacity, `rate` per second on average, fair waiting."""

from __future__ import annotations

import asyncio
import time

import pytest

from journey.targets import load

token_bucket = load(__file__, "token_bucket")
TokenBucket = token_bucket.TokenBucket


class FakeTime:
    """A clock the test moves by hand; its sleep moves the clock instead of waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # a real sleep lets other tasks run meanwhile: so does this


def _bucket(rate: float, capacity: float, fake: FakeTime):
    return TokenBucket(rate, capacity, clock=fake.clock, sleep=fake.sleep)


def test_a_new_bucket_is_full_and_allows_a_burst_of_capacity() -> None:
    bucket = _bucket(rate=1, capacity=3, fake=FakeTime())
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False], (
        "a full bucket of 3 lets 3 calls through at once, then refuses the 4th"
    )
    assert bucket.tokens == pytest.approx(0)


def test_tokens_refill_at_rate_up_to_capacity() -> None:
    fake = FakeTime()
    bucket = _bucket(rate=2, capacity=4, fake=fake)
    assert bucket.try_acquire(4)
    fake.now += 0.5
    assert bucket.tokens == pytest.approx(1), "0.5 s at 2 tokens/s refills 1 token"
    assert bucket.try_acquire()
    assert not bucket.try_acquire(), "that one token is gone now"
    fake.now += 100
    assert bucket.tokens == pytest.approx(4), "the bucket never holds more than its capacity"


def test_a_refused_try_acquire_takes_nothing() -> None:
    bucket = _bucket(rate=1, capacity=3, fake=FakeTime())
    assert bucket.try_acquire(2)
    assert not bucket.try_acquire(2), "only 1 token is left: asking for 2 is refused"
    assert bucket.tokens == pytest.approx(1), "a refused request must not take a partial amount"


def test_acquire_sleeps_exactly_as_long_as_the_refill_needs() -> None:
    fake = FakeTime()
    bucket = _bucket(rate=4, capacity=1, fake=fake)

    async def main() -> None:
        await bucket.acquire()  # the bucket is full: no waiting
        assert fake.sleeps == [], "acquire on a full bucket returns at once, without sleeping"
        await bucket.acquire()

    asyncio.run(main())
    assert fake.now == pytest.approx(0.25), (
        "at 4 tokens/s the next token is there after 0.25 s: sleep (missing / rate), "
        f"the fake clock says {fake.now}"
    )
    assert len(fake.sleeps) <= 2, "sleep for the time needed, don't poll in many small steps"


def test_concurrent_callers_are_served_in_order_and_never_above_the_rate() -> None:
    fake = FakeTime()
    bucket = _bucket(rate=2, capacity=2, fake=fake)
    granted: list[tuple[int, float]] = []

    async def caller(i: int) -> None:
        await bucket.acquire()
        granted.append((i, fake.now))

    async def main() -> None:
        async with asyncio.TaskGroup() as tg:
            for i in range(10):
                tg.create_task(caller(i))
                await asyncio.sleep(0)  # start them in a known order

    asyncio.run(main())
    assert [i for i, _ in granted] == list(range(10)), "first come, first served"
    for count, (_, at) in enumerate(granted, start=1):
        allowed = 2 + 2 * at  # capacity + rate * elapsed
        assert count <= allowed + 1e-9, f"{count} grants by t={at:.2f}s exceeds the rate"
    assert fake.now == pytest.approx(4.0), (
        "10 calls with a burst of 2 at 2/s take (10 - 2) / 2 = 4 s; waiting callers must not "
        f"each sleep for the same refill (serve them one at a time), the clock says {fake.now}"
    )


def test_a_newcomer_does_not_jump_ahead_of_a_waiting_caller() -> None:
    fake = FakeTime()
    wake = asyncio.Event()
    granted: list[str] = []

    async def gated_sleep(seconds: float) -> None:
        await wake.wait()  # a sleeper wakes only when the test says so ...
        fake.now += seconds  # ... and its sleep then took the time it asked for

    bucket = TokenBucket(1, 1, clock=fake.clock, sleep=gated_sleep)

    async def caller(name: str) -> None:
        await bucket.acquire()
        granted.append(name)

    async def main() -> None:
        assert bucket.try_acquire()
        async with asyncio.TaskGroup() as tg:
            tg.create_task(caller("first"))
            for _ in range(5):
                await asyncio.sleep(0)  # "first" is now asleep, waiting for a refill
            fake.now += 1  # the refill is due ... and a second caller arrives right then
            tg.create_task(caller("second"))
            for _ in range(5):
                await asyncio.sleep(0)
            wake.set()

    asyncio.run(main())
    assert granted == ["first", "second"], (
        f"tokens went to {granted}: a caller that arrives while another one waits must queue "
        "behind it (first come, first served), not grab the refilled token; hold an "
        "asyncio.Lock around the wait-and-take loop"
    )


def test_a_cancelled_waiter_takes_nothing_and_blocks_nobody() -> None:
    fake = FakeTime()
    never = asyncio.Event()

    async def stuck_sleep(seconds: float) -> None:
        await never.wait()

    bucket = TokenBucket(1, 1, clock=fake.clock, sleep=stuck_sleep)

    async def main() -> None:
        assert bucket.try_acquire()
        waiter = asyncio.create_task(bucket.acquire())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        fake.now += 1
        async with asyncio.timeout(2):
            await bucket.acquire()  # must not hang on anything the cancelled waiter held

    asyncio.run(main())
    assert bucket.tokens == pytest.approx(0), "the one refilled token went to the second acquire"


def test_with_the_real_clock_it_really_waits() -> None:
    bucket = TokenBucket(rate=40, capacity=1)

    async def main() -> float:
        started = time.monotonic()
        for _ in range(5):
            await bucket.acquire()
        return time.monotonic() - started

    elapsed = asyncio.run(main())
    assert 0.09 <= elapsed < 3, f"5 tokens at 40/s with a burst of 1 take ~0.1 s, not {elapsed}"


@pytest.mark.parametrize(("rate", "capacity"), [(0, 1), (-1, 1), (1, 0), (1, -2)])
def test_bad_rate_or_capacity_is_rejected(rate: float, capacity: float) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        TokenBucket(rate, capacity)


@pytest.mark.parametrize("tokens", [0, -1, 3])
def test_impossible_requests_are_rejected(tokens: float) -> None:
    bucket = _bucket(rate=1, capacity=2, fake=FakeTime())
    with pytest.raises(ValueError):  # noqa: PT011
        bucket.try_acquire(tokens)
    with pytest.raises(ValueError):  # noqa: PT011
        asyncio.run(bucket.acquire(tokens))
