"""Never shuts down the executor of run_in_pool_async: its worker threads are left behind.

05.3 CPU-bound work on a process pool versus threads (warm-up).

`concurrent.futures` gives threads and processes one interface: an Executor with `submit` and
`map`. Threads share one interpreter, and CPython's GIL lets only one of them run Python
bytecode at a time, so threads help while work *waits* (I/O) but not while it *computes*.
Processes each have their own interpreter and GIL, so CPU-bound work runs in parallel, at the
price of starting processes and pickling arguments and results between them.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
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
    if limit < 0:
        raise ValueError(f"limit must not be negative, got {limit}")
    return sum(1 for n in range(2, limit) if _is_prime(n))


def _is_prime(n: int) -> bool:
    return all(n % d for d in range(2, math.isqrt(n) + 1))


def make_executor(kind: Workload, max_workers: int) -> Executor:
    """The executor that suits a workload: "cpu" -> a ProcessPoolExecutor (one GIL per worker),
    "io" -> a ThreadPoolExecutor (threads are cheap and waiting releases the GIL).

    An unknown kind, or max_workers < 1, is a ValueError (max_workers=1 is fine).
    """
    if max_workers < 1:
        raise ValueError(f"max_workers must be at least 1, got {max_workers}")
    if kind == "cpu":
        return ProcessPoolExecutor(max_workers=max_workers)
    if kind == "io":
        return ThreadPoolExecutor(max_workers=max_workers)
    raise ValueError(f"kind must be one of {WORKLOADS}, got {kind!r}")


def run_in_pool(
    fn: Callable[[T], R], items: Iterable[T], *, kind: Workload, max_workers: int = 2
) -> list[R]:
    """Calls fn(item) for every item on the executor for `kind`; returns the results in the
    order of `items`, whatever order they finish in.

    The executor is shut down (its threads or processes joined) before returning. An exception
    raised by fn propagates to the caller. For kind="cpu", fn and the items must be picklable
    (a top-level function, not a lambda or closure).
    """
    with make_executor(kind, max_workers) as executor:
        # Executor.map yields results in input order; `with` waits for the workers to end.
        return list(executor.map(fn, items))


async def run_in_pool_async(
    fn: Callable[[T], R], items: Iterable[T], *, kind: Workload, max_workers: int = 2
) -> list[R]:
    """Like run_in_pool, but awaitable: the blocking calls run on the executor while the event
    loop stays free to run other tasks (use loop.run_in_executor). Results in input order; the
    executor is shut down before returning; an exception from fn propagates.
    """
    loop = asyncio.get_running_loop()
    executor = make_executor(kind, max_workers)
    futures = [loop.run_in_executor(executor, fn, item) for item in items]
    return list(await asyncio.gather(*futures))
