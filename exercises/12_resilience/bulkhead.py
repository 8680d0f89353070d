"""12.3 A bulkhead that rejects when full (core).

A ship's bulkheads keep one flooded compartment from sinking the ship. In a service, a bulkhead
gives each downstream its own small pool of concurrent calls: when the search service hangs,
only the calls to search pile up, and everything else still has room to run.

A bulkhead that *waits* without limit is just a slow queue, and a queue of requests nobody will
wait for is worse than an error. This one lets `max_concurrent` calls run, lets at most
`max_waiting` more wait for a slot, and rejects anything beyond that at once.
"""

from __future__ import annotations

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
        raise NotImplementedError("12.3: validate, then a Semaphore and two counters")

    @property
    def in_flight(self) -> int:
        raise NotImplementedError("12.3: how many callers are inside")

    @property
    def waiting(self) -> int:
        raise NotImplementedError("12.3: how many callers wait for a slot")

    async def __aenter__(self) -> Self:
        raise NotImplementedError("12.3: take a slot, wait for one, or raise BulkheadFull")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        raise NotImplementedError("12.3: give the slot back, whatever happened inside")

    async def run(self, fn: Callable[..., Awaitable[T]], *args: object) -> T:
        """`await fn(*args)` inside the bulkhead (same rules as `async with`)."""
        raise NotImplementedError("12.3: async with self: return await fn(*args)")
