"""Connection pools: what a new connection costs, and a pool that fails fast when exhausted.

SQLAlchemy's engine keeps a QueuePool: ``pool_size`` connections kept open, ``max_overflow``
extra ones opened under load and closed when given back, and ``pool_timeout`` seconds a borrower
waits when all are lent before it gets ``sqlalchemy.exc.TimeoutError``.

    uv run python lessons/04_databases/examples/06_connection_pool.py
"""

from __future__ import annotations

import os
import re
import statistics
import threading
import time

import psycopg
from sqlalchemy import create_engine, exc, text

URL = (
    os.environ.get("JOURNEY_POSTGRES_URL")
    or "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
)
SQLALCHEMY_URL = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", URL)


def median_ms(action, repeat: int = 20) -> float:
    action()  # warm up: the first run pays for imports and caches
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def connect_each_time() -> None:
    with psycopg.connect(URL) as conn:
        conn.execute("SELECT 1")


def main() -> None:
    engine = create_engine(SQLALCHEMY_URL, pool_size=2, max_overflow=0, pool_timeout=0.5)
    try:

        def borrow_from_the_pool() -> None:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        fresh = median_ms(connect_each_time)
        pooled = median_ms(borrow_from_the_pool)
        print(f"SELECT 1 on a new connection each time: {fresh:.2f} ms (median of 20)")
        print(f"SELECT 1 on a pooled connection:        {pooled:.2f} ms (median of 20)")
        print(f"pool: {engine.pool.status()}")

        print("\nall 2 connections lent, a third borrower waits pool_timeout=0.5 s, then:")
        release = threading.Event()
        holders_in = threading.Barrier(3)

        def hold() -> None:
            with engine.connect():
                holders_in.wait()
                release.wait(timeout=10)

        holders = [threading.Thread(target=hold) for _ in range(2)]
        for holder in holders:
            holder.start()
        holders_in.wait()  # both connections are lent now
        started = time.perf_counter()
        try:
            with engine.connect():
                pass
        except exc.TimeoutError as error:
            waited = time.perf_counter() - started
            print(f"  after {waited:.2f} s: {type(error).__name__}: {str(error).splitlines()[0]}")
        finally:
            release.set()
            for holder in holders:
                holder.join()
        print(f"pool after the holders gave back: {engine.pool.status()}")
    finally:
        engine.dispose()  # closes every pooled connection
    print("engine disposed: its connections are closed")


if __name__ == "__main__":
    main()
