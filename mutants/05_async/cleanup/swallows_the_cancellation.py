"""Catches BaseException per item: a cancel becomes an error line and the task goes on.

05.6 Cleanup that survives cancellation (core).

A task can be cancelled at any `await`: by `task.cancel()`, by `asyncio.timeout`, or by a
TaskGroup whose sibling failed. Cancellation arrives as `asyncio.CancelledError` raised at that
await. Code that holds a resource must release it in `finally` (or an async context manager),
and must let CancelledError go on: a task that swallows it cannot be stopped, and
`asyncio.timeout` turns the cancellation into TimeoutError only if it comes back out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Connection:
    """A connection from a ConnectionPool (given). `close()` is async: it takes a moment."""

    id: int
    pool: ConnectionPool
    closed: bool = False

    async def close(self) -> None:
        self.pool.closing += 1
        await self.pool.close_gate.wait()  # closing really waits for something (a handshake)
        self.closed = True
        self.pool.open.discard(self.id)


@dataclass
class ConnectionPool:
    """Hands out connections and knows which are still open (given).

    `open` holds the ids of connections not closed yet; `opened` counts connects and `closing`
    counts calls of close(). `close_gate` is set by default; a test clears it to make closing
    take a while.
    """

    open: set[int] = field(default_factory=set)
    opened: int = 0
    closing: int = 0
    close_gate: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.close_gate.set()

    async def connect(self) -> Connection:
        await asyncio.sleep(0)  # connecting is an await point too
        self.opened += 1
        self.open.add(self.opened)
        return Connection(self.opened, self)


Handler = Callable[[Connection, Any], Awaitable[Any]]


@asynccontextmanager
async def connection(pool: ConnectionPool) -> AsyncIterator[Connection]:
    """`async with connection(pool) as conn:` - a connection that is always closed.

    Closed when the block ends normally, raises, is cancelled or times out. Closing is
    shielded: if the task is cancelled *again* while it is closing, the close still finishes
    (in the background) and the cancellation still propagates.
    """
    conn = await pool.connect()
    try:
        yield conn
    finally:
        # shield: a second cancel interrupts our wait, not the close itself.
        await asyncio.shield(conn.close())


async def process_all(pool: ConnectionPool, items: Iterable[Any], handle: Handler) -> list[str]:
    """Handles every item, one after another, over ONE connection from `pool`.

    Returns one line per item, in order: "ok: <what handle returned>", or
    "error: <the exception's message>" when handle raised an Exception - a failing item does
    not stop the others. Cancellation is different: if the task is cancelled (or an enclosing
    asyncio.timeout expires) the connection is closed and CancelledError propagates - it is
    never turned into a result or swallowed.
    """
    results: list[str] = []
    async with connection(pool) as conn:
        await _handle_each(conn, items, handle, results)
    return results


async def process_within(
    pool: ConnectionPool, items: Iterable[Any], handle: Handler, *, seconds: float
) -> list[str]:
    """Like process_all, under a deadline of `seconds` for the whole batch.

    When the deadline passes, the item in progress is abandoned: its line and the lines of
    all items not started are "timeout", and process_within returns normally (the deadline
    is an expected outcome here). The connection is closed either way. A cancellation from
    outside - not our own deadline - still propagates as CancelledError.
    """
    todo = list(items)
    results: list[str] = []
    try:
        # asyncio.timeout cancels the work inside, then turns *its own* cancellation into
        # TimeoutError on the way out; we catch that outside, never CancelledError inside.
        async with asyncio.timeout(seconds), connection(pool) as conn:
            await _handle_each(conn, todo, handle, results)
    except TimeoutError:
        results.extend(["timeout"] * (len(todo) - len(results)))
    return results


async def _handle_each(
    conn: Connection, items: Iterable[Any], handle: Handler, results: list[str]
) -> None:
    """Appends one line per item to `results` as it goes, so a deadline keeps what is done."""
    for item in items:
        try:
            value = await handle(conn, item)
        except BaseException as error:
            results.append(f"error: {error}")
        else:
            results.append(f"ok: {value}")
