"""What "the database is down" and "the cache is down" look like from Python, for real.

Run: uv run python lessons/12_resilience/examples/05_what_down_looks_like.py

Graceful degradation starts with telling an outage from a bug. Each case below makes a real
failure against PostgreSQL or Redis and prints the exception, whether it is an outage
(psycopg.OperationalError, redis.exceptions.ConnectionError, a timeout) and how long it took:

1. nothing listens on the port: refused at once;
2. a server that accepts the connection and never answers: it hangs until `connect_timeout`
   (libpq's smallest is 2 s; without one it waits until the operating system gives up);
3. the server terminates our connection (an admin, a failover): the next query fails;
4. a query waits on a lock held by a migration: `lock_timeout` ends the wait;
5. a typo in the SQL: a ProgrammingError, a bug. Serving a stale copy would hide it;
6. Redis on a closed port, with redis-py's default retries and without them.

It uses its own schema, dropped at the end, and touches no other data.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import redis
from psycopg import sql
from redis.backoff import NoBackoff
from redis.retry import Retry

PG_URL = (
    os.environ.get("JOURNEY_POSTGRES_URL")
    or "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
)
OUTAGES = (psycopg.OperationalError, redis.exceptions.ConnectionError, TimeoutError, OSError)


def attempt(label: str, action: Callable[[], object]) -> None:
    started = time.perf_counter()
    try:
        action()
    except Exception as error:
        took = time.perf_counter() - started
        kind = "outage" if isinstance(error, OUTAGES) else "BUG, not an outage"
        first_line = str(error).strip().splitlines()[0][:70] if str(error).strip() else ""
        print(f"{label}\n   {type(error).__name__} ({kind}) after {took:.2f}s: {first_line}")
    else:
        print(f"{label}\n   no error?")


@contextmanager
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections (the kernel does) but never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    attempt(
        "1. PostgreSQL, nothing listening:",
        lambda: psycopg.connect(f"postgresql://postgres@127.0.0.1:{closed_port()}/x"),
    )
    with silent_server() as port:
        attempt(
            "2. PostgreSQL that never answers, connect_timeout=2:",
            lambda: psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/x", connect_timeout=2),
        )

    schema = f"journey_example_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            in_schema = {"options": f"-csearch_path={schema}"}
            admin.execute(
                sql.SQL("CREATE TABLE {}.products (id int)").format(sql.Identifier(schema))
            )

            with psycopg.connect(PG_URL, autocommit=True, **in_schema) as victim:
                admin.execute("SELECT pg_terminate_backend(%s)", (victim.info.backend_pid,))
                attempt(
                    "3. A connection the server terminated:",
                    lambda: victim.execute("SELECT count(*) FROM products"),
                )

            with (
                psycopg.connect(PG_URL, **in_schema) as migration,
                psycopg.connect(PG_URL, autocommit=True, **in_schema) as reader,
            ):
                migration.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")
                reader.execute("SET lock_timeout = '300ms'")
                attempt(
                    "4. A read behind a migration's lock, lock_timeout=300ms:",
                    lambda: reader.execute("SELECT count(*) FROM products"),
                )
                migration.rollback()
                attempt(
                    "5. A typo in the SQL:",
                    lambda: reader.execute("SELECT count(*) FROM prodcuts"),
                )
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))

    port = closed_port()
    with_retries = redis.Redis(host="127.0.0.1", port=port)  # redis-py's default Retry
    attempt("6a. Redis, nothing listening, default retries:", with_retries.ping)
    without = redis.Redis(host="127.0.0.1", port=port, retry=Retry(NoBackoff(), 0))
    attempt("6b. Redis, nothing listening, retries off:", without.ping)
    with_retries.close()
    without.close()
    print(f"(schema {schema} dropped)")


if __name__ == "__main__":
    main()
