"""05.7 A producer/consumer pipeline with a bounded queue and a clean shutdown (core).

One producer puts items on an `asyncio.Queue(maxsize=...)`; several consumers take them off
and process them. The bound is back-pressure: when consumers fall behind, `await queue.put`
waits, so the producer never races ahead and memory stays flat. A clean shutdown means every
item is processed, every consumer exits, no task is left pending, and an error in a consumer
stops the whole pipeline and reaches the caller.
"""

from __future__ import annotations

import asyncio  # noqa: F401 - you will need it
from collections.abc import Awaitable, Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class PipelineError(Exception, Generic[T]):
    """A consumer failed on `item`; the original exception is `__cause__` (given)."""

    def __init__(self, item: T) -> None:
        super().__init__(f"processing {item!r} failed")
        self.item = item


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
    raise NotImplementedError("05.7: producer + consumers in a TaskGroup around a bounded Queue")
