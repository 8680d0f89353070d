"""05.3 CPU-bound work on a process pool versus threads (warm-up).

`concurrent.futures` gives threads and processes one interface: an Executor with `submit` and
`map`. Threads share one interpreter, and CPython's GIL lets only one of them run Python
bytecode at a time, so threads help while work *waits* (I/O) but not while it *computes*.
Processes each have their own interpreter and GIL, so CPU-bound work runs in parallel, at the
price of starting processes and pickling arguments and results between them.
"""

from __future__ import annotations

import asyncio  # noqa: F401 - you will need it
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import Literal, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Workload = Literal["cpu", "io"]
WORKLOADS: tuple[str, ...] = ("cpu", "io")


def count_primes(limit: int) -> int:
    """How many primes are < `limit` (trial division: deliberately CPU-bound, no I/O).

    count_primes(10) == 4 (2, 3, 5, 7); count_primes(0) == count_primes(2) == 0.
    A negative limit is a ValueError.
    """
    raise NotImplementedError("05.3: count the primes below limit by trial division")


def make_executor(kind: Workload, max_workers: int) -> Executor:
    """The executor that suits a workload: "cpu" -> a ProcessPoolExecutor (one GIL per worker),
    "io" -> a ThreadPoolExecutor (threads are cheap and waiting releases the GIL).

    An unknown kind, or max_workers < 1, is a ValueError (max_workers=1 is fine).
    """
    raise NotImplementedError("05.3: return a ProcessPoolExecutor or a ThreadPoolExecutor")


def run_in_pool(
    fn: Callable[[T], R], items: Iterable[T], *, kind: Workload, max_workers: int = 2
) -> list[R]:
    """Calls fn(item) for every item on the executor for `kind`; returns the results in the
    order of `items`, whatever order they finish in.

    The executor is shut down (its threads or processes joined) before returning. An exception
    raised by fn propagates to the caller. For kind="cpu", fn and the items must be picklable
    (a top-level function, not a lambda or closure).
    """
    raise NotImplementedError("05.3: map fn over items on make_executor(kind, max_workers)")


async def run_in_pool_async(
    fn: Callable[[T], R], items: Iterable[T], *, kind: Workload, max_workers: int = 2
) -> list[R]:
    """Like run_in_pool, but awaitable: the blocking calls run on the executor while the event
    loop stays free to run other tasks (use loop.run_in_executor). Results in input order; the
    executor is shut down before returning; an exception from fn propagates.
    """
    raise NotImplementedError("05.3: await loop.run_in_executor(...) futures with gather")
