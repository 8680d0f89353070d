"""psycopg 3's async connection: the same API, awaited, for services built on asyncio.

Five queries that each take 0.2 s on the server (``pg_sleep``): one after another on one
connection, then concurrently with ``asyncio.gather`` on five connections. A connection runs
one query at a time, so concurrency needs several connections (in a service: a pool).

    uv run python lessons/04_databases/examples/07_async_psycopg.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import psycopg

URL = (
    os.environ.get("JOURNEY_POSTGRES_URL")
    or "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
)
QUERIES = 5


async def slow_query(conn: psycopg.AsyncConnection, n: int) -> int:
    cursor = await conn.execute("SELECT %s::int FROM pg_sleep(0.2)", (n,))
    row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def main() -> None:
    # `async with` closes the connection; transactions work as in the sync API:
    # `async with conn.transaction(): ...`
    async with await psycopg.AsyncConnection.connect(URL, autocommit=True) as conn:
        started = time.perf_counter()
        one_by_one = [await slow_query(conn, n) for n in range(QUERIES)]
        elapsed = time.perf_counter() - started
        print(f"one connection, awaited in turn: {one_by_one} in {elapsed:.2f} s")

        async with conn.transaction():  # BEGIN ... COMMIT, awaited
            await conn.execute("SELECT 1")
            print("inside `async with conn.transaction()`:", conn.info.transaction_status.name)
        print("after it (committed):", conn.info.transaction_status.name)

    connections = [
        await psycopg.AsyncConnection.connect(URL, autocommit=True) for _ in range(QUERIES)
    ]
    try:
        started = time.perf_counter()
        together = await asyncio.gather(*(slow_query(c, n) for n, c in enumerate(connections)))
        elapsed = time.perf_counter() - started
        print(f"{QUERIES} connections, gathered:     {together} in {elapsed:.2f} s")
    finally:
        for c in connections:
            await c.close()
    print("a service keeps such connections in a pool and borrows one per request")


if __name__ == "__main__":
    if sys.platform == "win32":  # psycopg's async mode needs the selector loop on Windows
        asyncio.set_event_loop_policy(asyncio.WindowsSelectorEventLoopPolicy())  # type: ignore[attr-defined]
    asyncio.run(main())
