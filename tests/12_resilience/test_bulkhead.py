"""12.3 Bulkhead: at most N inside, at most M waiting, the rest rejected at once."""

from __future__ import annotations

import asyncio

import pytest

from journey.targets import load

bulkhead = load(__file__, "bulkhead")
Bulkhead = bulkhead.Bulkhead
BulkheadFull = bulkhead.BulkheadFull

PATIENCE = 5.0  # seconds a test waits for a condition before failing


async def enter_or_be_rejected(bulk, what: str) -> None:
    """Enters and leaves at once; a bulkhead that makes us wait instead of rejecting fails."""
    try:
        async with asyncio.timeout(1.0), bulk:
            return
    except TimeoutError:
        pass  # fail below, outside the except block: the report shows our message first
    pytest.fail(f"{what}: the bulkhead made the caller wait instead of rejecting it at once")


async def settle(condition, what: str) -> None:
    """Lets other tasks run until `condition()` holds (a deadline, never a fixed sleep)."""
    async with asyncio.timeout(PATIENCE):
        while not condition():
            await asyncio.sleep(0)
    assert condition(), what


class Holder:
    """Tasks that enter the bulkhead and stay inside until released."""

    def __init__(self, bulk) -> None:
        self.bulk = bulk
        self.release = asyncio.Event()
        self.inside = 0
        self.peak = 0
        self.order: list[int] = []

    async def hold(self, n: int) -> int:
        async with self.bulk:
            self.inside += 1
            self.peak = max(self.peak, self.inside)
            self.order.append(n)
            try:
                async with asyncio.timeout(PATIENCE):
                    await self.release.wait()
            finally:
                self.inside -= 1
        return n


def test_calls_under_the_limit_run_concurrently() -> None:
    async def main() -> None:
        bulk = Bulkhead("search", max_concurrent=3)
        holder = Holder(bulk)
        tasks = [asyncio.create_task(holder.hold(i)) for i in range(3)]
        await settle(lambda: holder.inside == 3, "3 calls fit in max_concurrent=3 at once")
        assert bulk.in_flight == 3
        holder.release.set()
        assert await asyncio.gather(*tasks) == [0, 1, 2]
        assert bulk.in_flight == 0

    asyncio.run(main())


def test_a_full_bulkhead_without_waiting_room_rejects_at_once() -> None:
    async def main() -> None:
        bulk = Bulkhead("search", max_concurrent=2, max_waiting=0)
        holder = Holder(bulk)
        tasks = [asyncio.create_task(holder.hold(i)) for i in range(2)]
        await settle(lambda: holder.inside == 2, "two calls inside")
        with pytest.raises(BulkheadFull, match="full") as caught:
            await enter_or_be_rejected(bulk, "2 running, max_waiting=0")
        assert "search" in str(caught.value), "the error names the bulkhead"
        holder.release.set()
        await asyncio.gather(*tasks)

    asyncio.run(main())


def test_up_to_max_waiting_wait_and_then_run_in_order() -> None:
    async def main() -> None:
        bulk = Bulkhead("search", max_concurrent=1, max_waiting=2)
        holder = Holder(bulk)
        first = asyncio.create_task(holder.hold(0))
        await settle(lambda: holder.inside == 1, "the first call is inside")
        waiters = [asyncio.create_task(holder.hold(i)) for i in (1, 2)]
        await settle(lambda: bulk.waiting == 2, "two callers may wait when max_waiting=2")
        with pytest.raises(BulkheadFull):  # a third waiter is one too many
            await enter_or_be_rejected(bulk, "1 running and 2 waiting, max_waiting=2")
        assert bulk.waiting == 2, "a rejected caller was never counted as waiting"
        holder.release.set()
        await asyncio.gather(first, *waiters)
        assert holder.order == [0, 1, 2], "waiters get the slot in the order they came"
        assert holder.peak == 1, "never more than max_concurrent=1 inside"

    asyncio.run(main())


def test_the_limit_is_reached_and_never_exceeded() -> None:
    async def main() -> tuple[int, int, int]:
        bulk = Bulkhead("search", max_concurrent=4, max_waiting=100)
        holder = Holder(bulk)
        tasks = [asyncio.create_task(holder.hold(i)) for i in range(20)]
        await settle(lambda: holder.inside == 4 and bulk.waiting == 16, "4 inside, 16 waiting")
        holder.release.set()
        results = await asyncio.gather(*tasks)
        return holder.peak, len(results), bulk.in_flight

    peak, done, left = asyncio.run(main())
    assert peak == 4, f"max_concurrent=4: at most 4 inside at once, and all 4 used; saw {peak}"
    assert done == 20
    assert left == 0


def test_an_exception_inside_gives_the_slot_back() -> None:
    async def main() -> None:
        bulk = Bulkhead("payments", max_concurrent=1)
        for _ in range(3):
            with pytest.raises(RuntimeError):
                async with bulk:
                    raise RuntimeError("the payment service said no")
        assert bulk.in_flight == 0, "a failed call must not keep its slot"
        async with asyncio.timeout(1.0):
            async with bulk:  # must get in at once
                assert bulk.in_flight == 1

    asyncio.run(main())


def test_the_exception_from_inside_is_not_swallowed() -> None:
    async def main() -> None:
        bulk = Bulkhead("payments", max_concurrent=1)
        async with bulk:
            raise LookupError("no such card")

    with pytest.raises(LookupError, match="no such card"):
        asyncio.run(main())


def test_a_cancelled_call_inside_gives_the_slot_back() -> None:
    async def main() -> None:
        bulk = Bulkhead("search", max_concurrent=1)
        holder = Holder(bulk)
        task = asyncio.create_task(holder.hold(0))
        await settle(lambda: holder.inside == 1, "the call is inside")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert bulk.in_flight == 0, "a cancelled call must give its slot back"
        async with asyncio.timeout(1.0):
            async with bulk:
                pass

    asyncio.run(main())


def test_a_waiter_cancelled_while_waiting_leaves_no_trace() -> None:
    async def main() -> None:
        bulk = Bulkhead("search", max_concurrent=1, max_waiting=1)
        holder = Holder(bulk)
        first = asyncio.create_task(holder.hold(0))
        await settle(lambda: holder.inside == 1, "the first call is inside")
        waiter = asyncio.create_task(holder.hold(1))
        await settle(lambda: bulk.waiting == 1, "the second call waits")
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert bulk.waiting == 0, "a cancelled waiter no longer counts as waiting"
        # The waiting room is free again: a new caller may wait there instead of being refused.
        replacement = asyncio.create_task(holder.hold(2))
        await settle(lambda: bulk.waiting == 1, "a new caller can wait in the freed place")
        holder.release.set()
        await asyncio.gather(first, replacement)
        assert holder.order == [0, 2], "the cancelled waiter never ran"
        assert bulk.in_flight == 0

    asyncio.run(main())


def test_run_calls_the_function_inside_the_bulkhead() -> None:
    async def main() -> None:
        bulk = Bulkhead("search", max_concurrent=1)

        async def lookup(word: str, times: int) -> str:
            assert bulk.in_flight == 1, "run() calls the function inside the bulkhead"
            return word * times

        assert await bulk.run(lookup, "ab", 2) == "abab"
        assert bulk.in_flight == 0

    asyncio.run(main())


def test_a_freed_slot_goes_to_the_caller_who_waited_not_to_a_newcomer() -> None:
    async def main() -> list[str]:
        bulk = Bulkhead("search", max_concurrent=1, max_waiting=2)
        order: list[str] = []
        release = asyncio.Event()

        async def first() -> None:
            async with bulk:
                order.append("first")
                async with asyncio.timeout(PATIENCE):
                    await release.wait()
            # the slot was just given back and "second" is waiting: come straight back in
            async with bulk:
                order.append("first again")

        async def second() -> None:
            async with bulk:
                order.append("second")

        one = asyncio.create_task(first())
        await settle(lambda: order == ["first"], "first is inside")
        two = asyncio.create_task(second())
        await settle(lambda: bulk.waiting == 1, "second waits")
        release.set()
        await asyncio.gather(one, two)
        return order

    order = asyncio.run(main())
    assert order == ["first", "second", "first again"], (
        f"a caller who waited gets the freed slot before a newcomer; got {order}"
    )


@pytest.mark.parametrize(("concurrent", "waiting"), [(0, 0), (-1, 0), (1, -1)])
def test_bad_sizes_are_refused(concurrent: int, waiting: int) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        Bulkhead("x", max_concurrent=concurrent, max_waiting=waiting)
