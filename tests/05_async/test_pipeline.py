"""05.7 run_pipeline: a bounded queue, concurrent consumers, a clean shutdown, errors surfaced."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from journey.targets import load

pipeline = load(__file__, "pipeline")


def _leftover_tasks() -> set[asyncio.Task]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()}


async def _returns_soon(awaitable, seconds: float = 5.0):
    """Awaits run_pipeline with a deadline: a pipeline that never ends fails, it does not hang."""
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError:
        raise AssertionError(
            f"run_pipeline did not return within {seconds} s: every consumer must exit once the "
            "items are done (one sentinel per consumer, or cancel them after the queue drains)"
        ) from None


class Counted:
    """An item source that counts how many items were taken from it.

    It refuses to hand out more than `cap` items, so reading an endless source eagerly (list(...))
    fails at once instead of filling the memory.
    """

    def __init__(self, items, cap: int = 1000) -> None:
        self.items = items
        self.taken = 0
        self.cap = cap

    def __iter__(self):
        for item in self.items:
            self.taken += 1
            if self.taken > self.cap:
                raise AssertionError(
                    f"the producer read more than {self.cap} items ahead: read `items` lazily, "
                    "one `await queue.put(...)` at a time"
                )
            yield item


def test_every_item_is_processed_and_results_keep_input_order() -> None:
    async def square(x: int) -> int:
        for _ in range(10 - x):  # early items take longer: they finish out of order
            await asyncio.sleep(0)
        return x * x

    async def main():
        results = await _returns_soon(
            pipeline.run_pipeline(range(10), square, consumers=3, queue_size=2)
        )
        return results, _leftover_tasks()

    results, leftover = asyncio.run(main())
    assert results == [x * x for x in range(10)], "one result per item, in the order of the items"
    assert not leftover, (
        f"{len(leftover)} task(s) still pending after run_pipeline returned: every consumer must "
        "exit (a sentinel per consumer, or cancel them once the queue is drained)"
    )


def test_consumers_work_concurrently_up_to_their_number() -> None:
    in_flight = peak = 0
    all_busy = asyncio.Event()

    async def process(x: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        if in_flight == 4:
            all_busy.set()
        try:
            async with asyncio.timeout(1):
                await all_busy.wait()  # hold until 4 run at once (or give up after 1 s)
        except TimeoutError:
            all_busy.set()  # never 4 at once: stop holding, the peak check will say so
        finally:
            in_flight -= 1
        return x

    results = asyncio.run(
        _returns_soon(pipeline.run_pipeline(range(12), process, consumers=4, queue_size=3))
    )
    assert results == list(range(12))
    assert peak == 4, f"4 consumers should process 4 items at once, the peak was {peak}"


def test_one_consumer_and_a_queue_of_one_are_enough() -> None:
    async def double(x: int) -> int:
        await asyncio.sleep(0)
        return 2 * x

    async def main():
        results = await _returns_soon(
            pipeline.run_pipeline(range(5), double, consumers=1, queue_size=1)
        )
        return results, _leftover_tasks()

    results, leftover = asyncio.run(main())
    assert results == [0, 2, 4, 6, 8], "consumers=1 and queue_size=1 are the smallest valid sizes"
    assert not leftover


def test_the_queue_bound_holds_the_producer_back() -> None:
    source = Counted(range(100))
    release = asyncio.Event()
    busy = 0

    async def process(x: int) -> int:
        nonlocal busy
        busy += 1
        await release.wait()
        return x

    async def main():
        task = asyncio.create_task(
            pipeline.run_pipeline(source, process, consumers=2, queue_size=5)
        )
        async with asyncio.timeout(2):
            while busy < 2 and not task.done():  # wait until both consumers are stuck
                await asyncio.sleep(0)
        if task.done():
            await task  # it ended (or failed) without waiting for the stuck consumers
        for _ in range(50):  # give the producer every chance to run ahead
            await asyncio.sleep(0)
        taken_while_stuck = source.taken
        release.set()
        results = await _returns_soon(task)
        return taken_while_stuck, results

    taken, results = asyncio.run(main())
    assert results == list(range(100))
    assert taken <= 2 + 5 + 1, (
        f"with 2 stuck consumers and room for 5 in the queue, the producer took {taken} items: "
        "read items lazily and `await queue.put(...)` on an asyncio.Queue(maxsize=queue_size)"
    )
    assert taken >= 2 + 5, f"the producer should fill the queue while consumers work, took {taken}"


def test_a_failure_stops_the_pipeline_and_reaches_the_caller() -> None:
    source = Counted(itertools.count())  # endless: only a real stop ends this

    async def process(x: int) -> int:
        await asyncio.sleep(0)
        if x == 5:
            raise ValueError("five is right out")
        return x

    async def main():
        try:
            async with asyncio.timeout(5):
                await pipeline.run_pipeline(source, process, consumers=3, queue_size=4)
        except pipeline.PipelineError as error:
            return error, _leftover_tasks()
        except TimeoutError:
            raise AssertionError(
                "run_pipeline kept running after process failed on an endless source: the "
                "failure must cancel the producer and the other consumers (a TaskGroup does)"
            ) from None
        raise AssertionError("run_pipeline should raise PipelineError when process fails")

    error, leftover = asyncio.run(main())
    assert error.item == 5, "PipelineError names the item that failed"
    assert isinstance(error.__cause__, ValueError), (
        "raise PipelineError(item) from the original exception, so its traceback is kept"
    )
    assert not leftover, "a failure cancels the producer and the other consumers: none pending"
    assert source.taken < 50, "after a failure the producer stops reading items"


def test_no_items_gives_no_results() -> None:
    async def process(x: int) -> int:
        return x

    async def main():
        results = await _returns_soon(pipeline.run_pipeline([], process, consumers=2, queue_size=1))
        return results, _leftover_tasks()

    results, leftover = asyncio.run(main())
    assert results == []
    assert not leftover, "even with nothing to do, the consumers exit"


@pytest.mark.parametrize(("consumers", "queue_size"), [(0, 1), (-1, 1), (1, 0), (2, -3)])
def test_bad_sizes_are_rejected(consumers: int, queue_size: int) -> None:
    async def process(x: int) -> int:
        return x

    with pytest.raises(ValueError):  # noqa: PT011
        asyncio.run(pipeline.run_pipeline([1], process, consumers=consumers, queue_size=queue_size))
