"""05.6 cleanup: resources released on cancel and timeout; cancellation is never swallowed."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from journey.targets import load

cleanup = load(__file__, "cleanup")


async def _until(condition, seconds: float = 2.0) -> None:
    """Waits until condition() is true, at most `seconds` (then TimeoutError)."""
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.005)


async def _started(task: asyncio.Task, entered: asyncio.Event) -> None:
    """Waits until the handler hangs on its item; if the task ended first, raises why."""
    await _until(lambda: entered.is_set() or task.done())
    if task.done():
        task.result()
        raise AssertionError("the task ended before it reached the item that hangs")


def _handler(hang_on=None):
    """A handler that doubles items, fails on "bad" items and hangs on `hang_on`."""
    entered = asyncio.Event()

    async def handle(conn, item):
        assert not conn.closed, "handle runs while the connection is open"
        if item == hang_on:
            entered.set()
            await asyncio.Event().wait()  # hangs until cancelled
        if isinstance(item, str):
            raise ValueError(f"cannot double {item}")
        return item * 2

    return handle, entered


def test_process_all_uses_one_connection_and_closes_it() -> None:
    pool = cleanup.ConnectionPool()
    handle, _ = _handler()
    results = asyncio.run(cleanup.process_all(pool, [1, 2, 3], handle))
    assert results == ["ok: 2", "ok: 4", "ok: 6"]
    assert pool.opened == 1, "all items share one connection"
    assert pool.open == set(), "the connection is closed when the work is done"


def test_a_failing_item_is_a_result_and_the_rest_go_on() -> None:
    pool = cleanup.ConnectionPool()
    handle, _ = _handler()
    results = asyncio.run(cleanup.process_all(pool, [1, "x", 3], handle))
    assert results == ["ok: 2", "error: cannot double x", "ok: 6"], (
        "an Exception from handle becomes 'error: <message>' and the next items still run"
    )
    assert pool.open == set()


def test_cancelling_the_task_closes_the_connection_and_the_task_ends_cancelled() -> None:
    pool = cleanup.ConnectionPool()
    handle, entered = _handler(hang_on=2)

    async def main():
        task = asyncio.create_task(cleanup.process_all(pool, [1, 2, 3], handle))
        await _started(task, entered)
        assert pool.open, "the connection is open while an item is being handled"
        task.cancel()
        try:
            async with asyncio.timeout(2):
                await task
        except asyncio.CancelledError:
            pass
        return task

    task = asyncio.run(main())
    assert task.cancelled(), (
        "process_all must let CancelledError propagate: catching it (except BaseException, a "
        "bare except, or except CancelledError without raise) makes the task unstoppable"
    )
    assert pool.open == set(), "close the connection in finally: it must close on cancel too"


def test_an_outer_timeout_still_fires() -> None:
    pool = cleanup.ConnectionPool()
    handle, _ = _handler(hang_on=2)

    async def main() -> None:
        async with asyncio.timeout(0.1):
            await cleanup.process_all(pool, [1, 2, 3], handle)

    with pytest.raises(TimeoutError):
        asyncio.run(main())
    assert pool.open == set(), "a timeout is a cancellation: the connection is closed"


def test_the_context_manager_closes_on_an_exception_and_lets_it_through() -> None:
    pool = cleanup.ConnectionPool()

    async def main() -> None:
        async with cleanup.connection(pool) as conn:
            assert isinstance(conn, cleanup.Connection)
            assert not conn.closed
            raise ValueError("boom")

    with pytest.raises(ValueError) as raised:  # noqa: PT011 - its message is checked below
        asyncio.run(main())
    assert str(raised.value) == "boom", "the block's own exception comes out as it is"
    assert pool.opened == 1
    assert pool.open == set(), "the connection closes when the block raises"


def test_closing_finishes_even_when_cancelled_again_while_closing() -> None:
    pool = cleanup.ConnectionPool()

    async def user() -> None:
        async with cleanup.connection(pool):
            await asyncio.Event().wait()

    async def main():
        pool.close_gate.clear()  # closing will now wait until the test opens the gate
        task = asyncio.create_task(user())
        await _until(lambda: pool.opened == 1 or task.done())
        if task.done():
            return f"the task ended before it was cancelled: {task.exception()!r}"
        task.cancel()
        await _until(lambda: pool.closing == 1 or task.done())  # inside close() now
        if pool.closing == 0:
            return "close() was never called: a cancelled task must close its connection"
        task.cancel()  # ... and gets cancelled again, as an impatient caller would
        with pytest.raises(asyncio.CancelledError):
            async with asyncio.timeout(2):
                await task
        pool.close_gate.set()
        with contextlib.suppress(TimeoutError):
            await _until(lambda: not pool.open, seconds=1)
        return pool.open

    still_open = asyncio.run(main())
    assert not isinstance(still_open, str), still_open
    assert still_open == set(), (
        "a second cancel interrupted close(), leaking the connection: await "
        "asyncio.shield(conn.close()) so the close runs to the end whatever happens to the task"
    )


def test_process_within_turns_its_own_deadline_into_timeout_lines() -> None:
    pool = cleanup.ConnectionPool()
    handle, _ = _handler(hang_on=3)

    async def main() -> list[str]:
        async with asyncio.timeout(3):  # a safety net for the test, not the deadline under test
            return await cleanup.process_within(pool, [1, 2, 3, 4], handle, seconds=0.2)

    results = asyncio.run(main())
    assert results == ["ok: 2", "ok: 4", "timeout", "timeout"], (
        "items done before the deadline keep their lines; the one in progress and the rest "
        "are 'timeout', and process_within returns normally"
    )
    assert pool.open == set()


def test_process_within_lets_an_outside_cancel_propagate() -> None:
    pool = cleanup.ConnectionPool()
    handle, entered = _handler(hang_on=2)

    async def main():
        task = asyncio.create_task(cleanup.process_within(pool, [1, 2, 3], handle, seconds=30))
        await _started(task, entered)
        task.cancel()
        try:
            async with asyncio.timeout(2):
                await task
        except asyncio.CancelledError:
            pass
        return task

    task = asyncio.run(main())
    assert task.cancelled(), (
        "only our own deadline becomes 'timeout' lines: catch TimeoutError outside "
        "asyncio.timeout, never CancelledError inside it"
    )
    assert pool.open == set()
