"""Puts a connection the borrower closed back in the pool: the next borrower gets a dead one.

04.7 — A connection pool that fails fast when it is exhausted.

Opening a PostgreSQL connection costs a process on the server and a few round trips, and the
server accepts only so many (``max_connections``, 100 by default). A pool opens a few
connections, lends them out one borrower at a time, and takes them back. When every connection
is lent, a borrower waits a bounded time, then fails with an error that says what happened:
a request that would otherwise hang turns into a clear, quick failure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

import psycopg
from psycopg.pq import TransactionStatus

Connect = Callable[[], psycopg.Connection]


class PoolExhausted(TimeoutError):
    """Every connection stayed in use for the whole timeout."""


class PoolClosed(RuntimeError):
    """The pool was closed: it lends no more connections."""


class ConnectionPool:
    """At most ``size`` connections made by ``connect()``, opened when first needed, reused."""

    def __init__(self, connect: Connect, *, size: int = 5, timeout: float = 5.0) -> None:
        if size < 1:
            raise ValueError(f"the pool size must be at least 1, not {size}")
        if timeout <= 0:
            raise ValueError(f"the timeout must be positive, not {timeout}")
        self._connect = connect
        self.size = size
        self.timeout = timeout
        self._idle: list[psycopg.Connection] = []
        self._opened = 0
        self._waiting = 0
        self._closed = False
        # one lock for every counter; waiting borrowers sleep on it until a connection is back
        self._changed = threading.Condition()

    @property
    def opened(self) -> int:
        """Connections open now, lent or idle."""
        with self._changed:
            return self._opened

    @property
    def idle(self) -> int:
        """Connections open and waiting in the pool."""
        with self._changed:
            return len(self._idle)

    @property
    def waiting(self) -> int:
        """Borrowers waiting for a connection right now."""
        with self._changed:
            return self._waiting

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """``with pool.connection() as conn:`` borrows a connection and always gives it back."""
        conn = self._borrow()
        try:
            yield conn
        finally:
            self._give_back(conn)

    def close(self) -> None:
        """Closes the idle connections; lent ones are closed when they come back."""
        with self._changed:
            self._closed = True
            idle, self._idle = self._idle, []
            self._opened -= len(idle)
            self._changed.notify_all()  # waiting borrowers fail with PoolClosed
        for conn in idle:
            conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _borrow(self) -> psycopg.Connection:
        deadline = time.monotonic() + self.timeout
        with self._changed:
            self._waiting += 1
            try:
                while not (self._closed or self._idle or self._opened < self.size):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise PoolExhausted(
                            f"connection pool exhausted: all {self.size} connections stayed in "
                            f"use for {self.timeout} s; give connections back sooner, or make "
                            "the pool (and the database's max_connections) larger"
                        )
                    self._changed.wait(remaining)
            finally:
                self._waiting -= 1
            if self._closed:
                raise PoolClosed("the connection pool is closed")
            if self._idle:
                return self._idle.pop()
            self._opened += 1  # claim the slot before connecting, outside the lock
        try:
            return self._connect()
        except BaseException:
            with self._changed:
                self._opened -= 1  # the slot is free again
                self._changed.notify()
            raise

    def _give_back(self, conn: psycopg.Connection) -> None:
        if not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
            try:
                conn.rollback()  # the next borrower must not inherit a transaction
            except psycopg.Error:
                conn.close()
        with self._changed:
            keep = not self._closed
            if keep:
                self._idle.append(conn)
            else:
                self._opened -= 1
            self._changed.notify()
        if not keep:
            conn.close()
