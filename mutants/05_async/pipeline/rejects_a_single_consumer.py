"""Rejects the smallest valid number of consumers, 1.

05.7 A producer/consumer pipeline with a bounded queue and a clean shutdown (core).

One producer puts items on an `asyncio.Queue(maxsize=...)`; several consumers take them off
and process them. The bound is back-pressure: when consumers fall behind, `await queue.put`
waits, so the producer never races ahead and memory stays flat. A clean shutdown means every
item is processed, every consumer exits, no task is left pending, and an error in a consumer
stops the whole pipeline and reaches the caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class PipelineError(Exception, Generic[T]):
    """A consumer failed on `item`; the original exception is `__cause__` (given)."""

    def __init__(self, item: T) -> None:
        super().__init__(f"processing {item!r} failed")
        self.item = item


_DONE: Any = object()  # the "no more items" sentinel, one per consumer


async def run_pipeline(
    items: Iterable[T],
    process: Callable[[T], Awaitable[R]],
    *,
    consumers: int = 3,
    queue_size: int = 10,
) -> list[R]:
    """Processes every item with `process`, on `consumers` concurrent consumer tasks fed by one
    producer task through an asyncio.Queue of at most `queue_size` items.

    - Returns the results in the order of `items` (consumers finish in any order).
    - `items` is read lazily, as the queue makes room: it may be a generator, even an endless
      one when processing fails. Never read ahead more than the queue can hold.
    - If `process` raises for an item, the pipeline stops: the producer and the other
      consumers are cancelled and run_pipeline raises PipelineError(item) from the original
      exception (the first failure, if several happen).
    - When run_pipeline returns or raises, none of its tasks is still pending.
    - `consumers < 1` or `queue_size < 1` is a ValueError (1 is fine). No items: an empty list.
    """
    if consumers <= 1:
        raise ValueError(f"consumers must be at least 1, got {consumers}")
    if queue_size < 1:
        raise ValueError(f"queue_size must be at least 1, got {queue_size}")
    queue: asyncio.Queue[tuple[int, T]] = asyncio.Queue(maxsize=queue_size)
    results: dict[int, R] = {}

    async def produce() -> None:
        for index, item in enumerate(items):
            await queue.put((index, item))  # waits while the queue is full: back-pressure
        for _ in range(consumers):
            await queue.put(_DONE)  # one sentinel per consumer: each stops after its own

    async def consume() -> None:
        while True:
            entry = await queue.get()
            if entry is _DONE:
                return
            index, item = entry
            try:
                results[index] = await process(item)
            except Exception as error:
                raise PipelineError(item) from error

    try:
        # The TaskGroup waits for all its tasks and, when one fails, cancels the rest.
        async with asyncio.TaskGroup() as tg:
            tg.create_task(produce())
            for _ in range(consumers):
                tg.create_task(consume())
    except* PipelineError as group:
        failures = [e for e in group.exceptions if isinstance(e, PipelineError)]
        raise failures[0] from failures[0].__cause__
    return [results[index] for index in sorted(results)]
