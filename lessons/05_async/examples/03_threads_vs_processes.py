"""Threads vs processes with concurrent.futures: which helps for CPU work, which for waiting.

Run: uv run python lessons/05_async/examples/03_threads_vs_processes.py
"""

import asyncio
import math
import os
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor


def count_primes(limit: int) -> int:
    """Pure Python arithmetic: holds the GIL the whole time (CPU-bound)."""
    return sum(1 for n in range(2, limit) if all(n % d for d in range(2, math.isqrt(n) + 1)))


def wait_for_disk(seconds: float) -> float:
    """Stands in for blocking I/O: time.sleep releases the GIL while it waits."""
    time.sleep(seconds)
    return seconds


def timed(label: str, executor: Executor | None, fn, items) -> None:
    started = time.perf_counter()
    if executor is None:
        results = [fn(item) for item in items]
    else:
        with executor:  # leaving the block shuts the pool down and joins its workers
            results = list(executor.map(fn, items))  # map keeps the input order
    print(f"  {label:<10} {time.perf_counter() - started:5.2f}s  {results}")


async def from_async_code() -> None:
    # Blocking calls inside a coroutine freeze the event loop; hand them to an executor.
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = await asyncio.gather(
            *(loop.run_in_executor(pool, count_primes, n) for n in (20_000, 30_000))
        )
    blocking = await asyncio.to_thread(wait_for_disk, 0.05)  # the default thread pool
    print(f"  run_in_executor -> {results}, to_thread -> {blocking}")


if __name__ == "__main__":  # required: worker processes may re-import this module
    workers = min(4, os.cpu_count() or 1)
    cpu_work = [120_000] * 4
    print(f"CPU-bound: count_primes(120_000) x 4 on {workers} workers")
    timed("serial", None, count_primes, cpu_work)
    timed("threads", ThreadPoolExecutor(workers), count_primes, cpu_work)
    timed("processes", ProcessPoolExecutor(workers), count_primes, cpu_work)
    print("  threads take turns on the GIL; processes each have their own (if you have cores)")

    io_work = [0.2] * 4
    print("I/O-bound: 4 blocking waits of 0.2s")
    timed("serial", None, wait_for_disk, io_work)
    timed("threads", ThreadPoolExecutor(4), wait_for_disk, io_work)
    print("  waiting releases the GIL: threads overlap the waits")

    print("From async code:")
    asyncio.run(from_async_code())
