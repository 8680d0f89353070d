"""A call that raises keeps its slot for ever.

A wrong solution of 12.3 `bulkhead`, kept so that its tests prove
they catch this bug. Everything else is the reference solution.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self, TypeVar

T = TypeVar("T")


class BulkheadFull(Exception):
    """The bulkhead had no free slot and no room to wait (given).

    The message names the bulkhead and says "full".
    """

    def __init__(self, name: str, max_concurrent: int, max_waiting: int) -> None:
        super().__init__(
            f"bulkhead {name!r} is full: {max_concurrent} running, {max_waiting} waiting"
        )
        self.name = name


class Bulkhead:
    """At most `max_concurrent` calls inside at once, at most `max_waiting` more waiting.

    ```
    search = Bulkhead("search", max_concurrent=10, max_waiting=5)
    async with search:           # raises BulkheadFull when it cannot even wait
        return await call_search()
    # or: await search.run(call_search, query)
    ```

    - Entering takes a free slot at once when there is one (and nobody is waiting before you).
    - Otherwise, when fewer than `max_waiting` callers are waiting, it waits for a slot;
      waiters get slots in the order they came.
    - Otherwise it raises BulkheadFull at once, without waiting.
    - `in_flight` is the number of callers inside; `waiting` the number waiting.
    - Whatever happens inside (a return, an exception, a cancellation) the slot is given back.
      A caller cancelled while waiting stops waiting and takes no slot with it.
    - `max_concurrent < 1` or `max_waiting < 0` is a ValueError.
    """

    def __init__(self, name: str, max_concurrent: int, max_waiting: int = 0) -> None:
        if max_concurrent < 1:
            raise ValueError(f"max_concurrent must be at least 1, got {max_concurrent}")
        if max_waiting < 0:
            raise ValueError(f"max_waiting must be 0 or more, got {max_waiting}")
        self.name = name
        self.max_concurrent = max_concurrent
        self.max_waiting = max_waiting
        self._slots = asyncio.Semaphore(max_concurrent)
        self._in_flight = 0
        self._waiting = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def waiting(self) -> int:
        return self._waiting

    async def __aenter__(self) -> Self:
        # A free slot is taken without waiting, unless others already wait for one (fairness).
        if self._slots.locked() or self._waiting > 0:
            if self._waiting >= self.max_waiting:
                raise BulkheadFull(self.name, self.max_concurrent, self.max_waiting)
            self._waiting += 1
            try:
                await self._slots.acquire()
            finally:
                self._waiting -= 1
        else:
            await self._slots.acquire()  # free: returns at once
        self._in_flight += 1
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self._in_flight -= 1
            self._slots.release()

    async def run(self, fn: Callable[..., Awaitable[T]], *args: object) -> T:
        """`await fn(*args)` inside the bulkhead (same rules as `async with`)."""
        async with self:
            return await fn(*args)
