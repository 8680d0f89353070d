"""04.7 — A connection pool that fails fast when it is exhausted.

Opening a PostgreSQL connection costs a process on the server and a few round trips, and the
server accepts only so many (``max_connections``, 100 by default). A pool opens a few
connections, lends them out one borrower at a time, and takes them back. When every connection
is lent, a borrower waits a bounded time, then fails with an error that says what happened:
a request that would otherwise hang turns into a clear, quick failure.

Many threads use one pool at once, so every piece of its state (the idle connections, the
counters) is read and changed under one lock. A ``threading.Condition`` is a lock that
borrowers can also sleep on until a connection comes back: ``cond.wait(timeout)`` releases the
lock while it sleeps, ``cond.notify()`` wakes one sleeper.

``psycopg_pool.ConnectionPool`` and SQLAlchemy's ``QueuePool`` (``create_engine(url,
pool_size=5, max_overflow=0, pool_timeout=5)``) are the production versions of this class.
"""

from __future__ import annotations

import threading  # noqa: F401 - you will need it
import time  # noqa: F401 - and this, for the deadline
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

import psycopg
from psycopg.pq import TransactionStatus  # noqa: F401 - conn.info.transaction_status

Connect = Callable[[], psycopg.Connection]


class PoolExhausted(TimeoutError):
    """Every connection stayed in use for the whole timeout."""


class PoolClosed(RuntimeError):
    """The pool was closed: it lends no more connections."""


class ConnectionPool:
    """At most ``size`` connections made by ``connect()``, opened when first needed, reused.

    ``ConnectionPool(lambda: psycopg.connect(url), size=5, timeout=5.0)``

    - No connection is opened before the first borrower needs one; an idle connection is
      reused before a new one is opened; never more than ``size`` are open at once.
    - ``size < 1`` or ``timeout <= 0`` is a ValueError (``size=1`` is fine).
    - ``connect()`` may fail (the server is down): the error reaches the borrower, and the
      failed attempt does not count as an open connection.
    """

    def __init__(self, connect: Connect, *, size: int = 5, timeout: float = 5.0) -> None:
        raise NotImplementedError("04.7: check size and timeout, keep them; no connection yet")

    @property
    def opened(self) -> int:
        """Connections open now, lent or idle."""
        raise NotImplementedError("04.7: read the counter under the lock")

    @property
    def idle(self) -> int:
        """Connections open and waiting in the pool."""
        raise NotImplementedError("04.7: how many are idle")

    @property
    def waiting(self) -> int:
        """Borrowers waiting for a connection right now (inside ``connection()``, not served)."""
        raise NotImplementedError("04.7: count the borrowers that wait")

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """``with pool.connection() as conn:`` borrows a connection and always gives it back.

        Borrowing: an idle connection if there is one; else a new one while fewer than
        ``size`` are open; else wait until one comes back, at most ``timeout`` seconds in all,
        then raise PoolExhausted, whose message says "exhausted" and gives the pool size and
        the timeout. PoolClosed (message with "closed") after ``close()``, also for a
        borrower that was waiting when the pool closed.

        Giving back (when the block ends, whether it raised or not): a connection left in a
        transaction (open, or failed by an error) is rolled back first, so the next borrower
        never inherits it; a connection the borrower closed is dropped (the next borrower gets
        a new one); a connection given back after ``close()`` is closed.
        """
        raise NotImplementedError("04.7: borrow, yield, give back in finally")
        yield  # makes this a generator, as @contextmanager needs

    def close(self) -> None:
        """Closes the idle connections at once; lent ones are closed when they come back."""
        raise NotImplementedError("04.7: close the idle connections, refuse new borrowers")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
