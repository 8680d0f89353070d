"""Coroutines, tasks, gather and TaskGroup: waiting for many things at once on one thread.

Run: uv run python lessons/05_async/examples/01_event_loop_tasks.py
"""

import asyncio
import threading
import time


async def brew(name: str, seconds: float) -> str:
    # `await` hands control back to the event loop until the sleep is over: meanwhile the
    # loop runs other tasks. A blocking time.sleep here would freeze all of them.
    await asyncio.sleep(seconds)
    return f"{name} ready after {seconds}s"


async def main() -> None:
    orders = [("espresso", 0.3), ("latte", 0.2), ("tea", 0.1)]

    # 1. Awaiting one after another: the waits add up.
    started = time.perf_counter()
    for name, seconds in orders:
        await brew(name, seconds)
    print(f"sequential awaits : {time.perf_counter() - started:.2f}s (0.3 + 0.2 + 0.1)")

    # 2. gather: runs the coroutines as tasks concurrently, results in argument order.
    started = time.perf_counter()
    results = await asyncio.gather(*(brew(n, s) for n, s in orders))
    print(f"gather            : {time.perf_counter() - started:.2f}s (the longest wait) ->")
    for line in results:
        print("   ", line)

    # 3. TaskGroup (3.11+): structured concurrency. The block waits for every task; if one
    #    fails, the others are cancelled and the errors come out as an ExceptionGroup.
    started = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(brew(n, s), name=n) for n, s in orders]
    print(
        f"TaskGroup         : {time.perf_counter() - started:.2f}s, {[t.result() for t in tasks]}"
    )

    async def broken() -> None:
        await asyncio.sleep(0.05)
        raise ValueError("the milk ran out")

    try:
        async with asyncio.TaskGroup() as tg:
            slow = tg.create_task(brew("cappuccino", 5))
            tg.create_task(broken())
    except* ValueError as group:
        print(f"TaskGroup failure : {group.exceptions[0]!r}; sibling cancelled: {slow.cancelled()}")

    # 4. All of it ran on one thread: concurrency here is interleaving at `await`s.
    print(f"thread            : {threading.current_thread().name} (one thread, one event loop)")


if __name__ == "__main__":
    asyncio.run(main())  # creates the event loop, runs main() to completion, closes the loop
