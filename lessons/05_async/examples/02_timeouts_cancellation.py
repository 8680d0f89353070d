"""Timeouts and cancellation: deadlines, cleanup in finally, and never swallowing CancelledError.

Run: uv run python lessons/05_async/examples/02_timeouts_cancellation.py
"""

import asyncio


class Resource:
    def __init__(self, name: str) -> None:
        self.name = name
        self.open = True
        print(f"  open  {name}")

    async def close(self) -> None:
        await asyncio.sleep(0.01)  # closing is async too (a network goodbye, a flush...)
        self.open = False
        print(f"  close {self.name}")


async def slow_job(name: str, seconds: float) -> str:
    resource = Resource(name)
    try:
        await asyncio.sleep(seconds)  # cancellation is raised HERE, at the await
        return f"{name} done"
    finally:
        # Runs on success, on error, and on cancellation. shield() runs close() as a task of
        # its own: a second cancel interrupts this await, not the close (see part 6).
        await asyncio.shield(resource.close())


async def main() -> None:
    print("1. asyncio.timeout: a deadline for a block of code")
    try:
        async with asyncio.timeout(0.1):
            await slow_job("report", 10)
    except TimeoutError:
        print("  TimeoutError after 0.1s; the resource was still closed")

    print("2. asyncio.wait_for: the same, for one awaitable")
    try:
        await asyncio.wait_for(slow_job("export", 10), timeout=0.1)
    except TimeoutError:
        print("  TimeoutError")

    print("3. task.cancel(): CancelledError is raised inside the task")
    task = asyncio.create_task(slow_job("upload", 10))
    await asyncio.sleep(0.05)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        print(f"  task.cancelled() == {task.cancelled()}")

    print("4. swallowing CancelledError breaks timeouts")

    async def stubborn() -> str:
        try:  # noqa: SIM105 - the wrong way, on purpose
            await asyncio.sleep(10)
        except BaseException:  # WRONG: this also catches CancelledError
            pass
        return "finished anyway"

    async with asyncio.timeout(0.05) as deadline:
        result = await stubborn()
    print(f"  no TimeoutError was raised, got {result!r}; expired={deadline.expired()}")
    print("  -> catch Exception (CancelledError is a BaseException), or re-raise it")

    print("5. a deadline for a whole batch, with partial results")
    done: list[str] = []
    try:
        async with asyncio.timeout(0.25):
            for i, seconds in enumerate([0.1, 0.1, 0.1, 0.1]):
                done.append(await slow_job(f"step{i}", seconds))
    except TimeoutError:
        print(f"  finished in time: {done}")

    print("6. a second cancel while the task is closing, with shield")
    task = asyncio.create_task(slow_job("download", 10))
    await asyncio.sleep(0.02)
    task.cancel()  # the task is now in its finally, awaiting the shielded close ...
    await asyncio.sleep(0)
    task.cancel()  # ... and is cancelled again
    try:
        await task
    except asyncio.CancelledError:
        print("  the task ended at once (CancelledError), without waiting for the close")
    await asyncio.sleep(0.05)  # the close goes on in the background and prints when done


if __name__ == "__main__":
    asyncio.run(main())
