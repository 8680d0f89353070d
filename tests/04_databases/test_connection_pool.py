"""04.7 — a connection pool that fails fast when it is exhausted."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from journey.targets import load

pool_module = load(__file__, "connection_pool")
ConnectionPool = pool_module.ConnectionPool


class Connector:
    """The ``connect`` function handed to a pool: opens real connections and keeps a list of
    them, so the test can count them (and close whatever is left at the end)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.made: list[psycopg.Connection] = []
        self.failures_left = 0

    def __call__(self) -> psycopg.Connection:
        if self.failures_left:
            self.failures_left -= 1
            raise psycopg.OperationalError("the database is restarting")
        conn = psycopg.connect(self.url)
        self.made.append(conn)
        return conn


@pytest.fixture
def connector(postgres_url: str) -> Iterator[Connector]:
    made = Connector(postgres_url)
    try:
        yield made
    finally:
        for conn in made.made:
            conn.close()


def pid(conn: psycopg.Connection) -> int:
    return conn.info.backend_pid


def until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


class Borrower(threading.Thread):
    """Borrows a connection on its own thread and records what happened."""

    def __init__(self, pool, hold: threading.Event | None = None) -> None:
        super().__init__(daemon=True)
        self.pool = pool
        self.hold = hold
        self.pid: int | None = None
        self.error: BaseException | None = None
        self.got = threading.Event()

    def run(self) -> None:
        try:
            with self.pool.connection() as conn:
                self.pid = pid(conn)
                self.got.set()
                if self.hold is not None:
                    self.hold.wait(timeout=10)
        except BaseException as error:
            self.error = error


def test_connections_are_opened_when_needed_and_reused(connector: Connector) -> None:
    pool = ConnectionPool(connector, size=3, timeout=2)
    assert connector.made == [], "a new pool opens no connection until a borrower needs one"
    with pool.connection() as conn:
        first = pid(conn)
        assert conn.execute("SELECT 1").fetchone() == (1,)
    with pool.connection() as conn:
        second = pid(conn)
    assert len(connector.made) == 1, (
        f"two borrowers one after the other opened {len(connector.made)} connections: give a "
        "connection back to the pool, and lend an idle one before opening another"
    )
    assert first == second, "the second borrower gets the same server connection"
    assert (pool.opened, pool.idle, pool.waiting) == (1, 1, 0)
    pool.close()


def test_at_most_size_connections_and_all_of_them_in_use(connector: Connector) -> None:
    pool = ConnectionPool(connector, size=3, timeout=5)
    in_use = 0
    peak = 0
    lock = threading.Lock()
    all_busy = threading.Event()

    def work() -> None:
        nonlocal in_use, peak
        with pool.connection():
            with lock:
                in_use += 1
                peak = max(peak, in_use)
                if in_use == 3:
                    all_busy.set()
            all_busy.wait(timeout=2)  # hold until 3 are in use at once
            with lock:
                in_use -= 1

    threads = [threading.Thread(target=work) for _ in range(9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert peak == 3, f"3 borrowers should hold the 3 connections at once, the peak was {peak}"
    assert len(connector.made) == 3, (
        f"9 borrowers on a pool of 3 opened {len(connector.made)} connections: never more "
        "than size, and reuse them"
    )
    assert pool.opened == 3
    pool.close()


def test_an_exhausted_pool_fails_fast_with_a_clear_error(connector: Connector) -> None:
    pool = ConnectionPool(connector, size=1, timeout=0.3)
    release = threading.Event()
    holder = Borrower(pool, hold=release)
    holder.start()
    assert holder.got.wait(timeout=5), f"the first borrower gets a connection ({holder.error!r})"
    late = Borrower(pool)
    started = time.monotonic()
    late.start()
    late.join(timeout=5)
    finished_in = time.monotonic() - started
    release.set()
    holder.join(timeout=5)
    late.join(timeout=5)
    pool.close()
    assert finished_in < 5, (
        "a borrower waited more than 5 s on a pool with timeout=0.3: wait at most `timeout` "
        "seconds, then raise PoolExhausted (a hung request is worse than a quick error)"
    )
    assert isinstance(late.error, pool_module.PoolExhausted), (
        f"the second borrower should get PoolExhausted, got {late.error!r}"
    )
    assert isinstance(late.error, TimeoutError), "PoolExhausted is a TimeoutError"
    assert finished_in >= 0.25, (
        f"it gave up after {finished_in:.2f} s: wait for a connection to come back, up to the "
        "timeout (0.3 s), before failing"
    )
    message = str(late.error)
    assert "exhausted" in message, f"say what happened: {message!r}"
    assert "1" in message, f"the message gives the pool size (1): {message!r}"
    assert "0.3" in message, f"the message gives the timeout (0.3 s): {message!r}"


def test_a_waiting_borrower_gets_the_connection_given_back(connector: Connector) -> None:
    pool = ConnectionPool(connector, size=1, timeout=5)
    with pool.connection() as conn:
        held = pid(conn)
        waiter = Borrower(pool)
        waiter.start()
        arrived = until(lambda: pool.waiting == 1 or not waiter.is_alive())
        assert arrived, "the second borrower neither waited nor finished"
        assert waiter.error is None, (
            f"while the only connection is lent, a second borrower waits (pool.waiting == 1) "
            f"instead of failing at once: {waiter.error!r}"
        )
    waiter.join(timeout=5)
    pool.close()
    assert waiter.error is None, f"the waiter got {waiter.error!r} instead of the connection"
    assert waiter.pid == held, "the waiter gets the very connection that was given back"
    assert len(connector.made) == 1


def test_a_connection_comes_back_even_when_the_block_raises(connector: Connector) -> None:
    pool = ConnectionPool(connector, size=1, timeout=0.5)
    with pytest.raises(ZeroDivisionError), pool.connection():
        _ = 1 / 0
    with pool.connection() as conn:  # would be PoolExhausted if the connection leaked
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert len(connector.made) == 1, "give the connection back in a finally"
    pool.close()


def test_an_open_or_failed_transaction_is_rolled_back(connector: Connector) -> None:
    pool = ConnectionPool(connector, size=1, timeout=2)
    with pool.connection() as conn:
        conn.execute("CREATE TABLE notes (text text)")
        conn.commit()
    with pool.connection() as conn:
        conn.execute("INSERT INTO notes VALUES ('never committed')")  # and not committed
    with pool.connection() as conn:
        assert conn.info.transaction_status == TransactionStatus.IDLE, (
            "a connection comes back from the pool outside any transaction: roll back what "
            "the previous borrower left open"
        )
        assert conn.execute("SELECT count(*) FROM notes").fetchone() == (0,), (
            "the previous borrower's uncommitted INSERT must not reach the next one"
        )
        conn.rollback()
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute("SELECT * FROM no_such_table")  # the transaction is now failed
    with pool.connection() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,), (
            "a connection given back in a failed transaction must be rolled back, or every "
            "later borrower gets 'current transaction is aborted'"
        )
    pool.close()


def test_a_connection_the_borrower_closed_is_replaced(connector: Connector) -> None:
    pool = ConnectionPool(connector, size=1, timeout=2)
    with pool.connection() as conn:
        conn.close()
    assert pool.opened == 0, "a closed connection is dropped, not kept in the pool"
    with pool.connection() as conn:
        assert not conn.closed, "the next borrower gets a working connection"
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert len(connector.made) == 2
    pool.close()


def test_a_failed_connect_does_not_use_up_the_pool(connector: Connector) -> None:
    pool = ConnectionPool(connector, size=1, timeout=0.5)
    connector.failures_left = 2
    for _ in range(2):
        with pytest.raises(psycopg.OperationalError), pool.connection():
            pass
    assert pool.opened == 0, "a connection that failed to open is not counted as open"
    with pool.connection() as conn:  # PoolExhausted here means the failures kept their slots
        assert conn.execute("SELECT 1").fetchone() == (1,)
    pool.close()


def test_close_closes_idle_connections_and_refuses_borrowers(connector: Connector) -> None:
    pool = ConnectionPool(connector, size=2, timeout=2)
    with pool.connection(), pool.connection() as lent:
        pass
    assert len(connector.made) == 2
    assert pool.idle == 2
    with pool.connection() as lent:
        pool.close()
        assert sum(c.closed for c in connector.made) == 1, "close() closes the idle connection"
        assert not lent.closed, "... but not one that is still lent"
    assert lent.closed, "a connection given back after close() is closed"
    assert pool.opened == 0
    with pytest.raises(pool_module.PoolClosed, match="closed"), pool.connection():
        pass


def test_close_wakes_a_waiting_borrower(connector: Connector) -> None:
    pool = ConnectionPool(connector, size=1, timeout=5)
    with pool.connection():
        waiter = Borrower(pool)
        waiter.start()
        assert until(lambda: pool.waiting == 1 or not waiter.is_alive())
        pool.close()
        waiter.join(timeout=2)
        assert not waiter.is_alive(), "close() wakes the borrowers that wait"
    assert isinstance(waiter.error, pool_module.PoolClosed), f"got {waiter.error!r}"


@pytest.mark.parametrize(("size", "timeout"), [(0, 1.0), (-1, 1.0), (1, 0.0), (1, -2.0)])
def test_bad_sizes_and_timeouts_are_refused(
    connector: Connector, size: int, timeout: float
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the type is the contract
        ConnectionPool(connector, size=size, timeout=timeout)
