"""Row locks between two connections: FOR UPDATE, NOWAIT, lock_timeout and SKIP LOCKED.

Also where to catch a database error: outside the transaction block, or inside a savepoint.

uv run python lessons/04_databases/examples/04_row_locks.py
"""

from __future__ import annotations

import os
import uuid

import psycopg
from psycopg import errors, sql

URL = (
    os.environ.get("JOURNEY_POSTGRES_URL")
    or "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
)


def main() -> None:
    schema = f"journey_example_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            url_options = {"options": f"-csearch_path={schema}"}
            with (
                psycopg.connect(URL, autocommit=True, **url_options) as a,
                psycopg.connect(URL, autocommit=True, **url_options) as b,
            ):
                demo(a, b)
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
            print(f"\ndropped schema {schema}")


def demo(a: psycopg.Connection, b: psycopg.Connection) -> None:
    a.execute("CREATE TABLE jobs (id int PRIMARY KEY, state text NOT NULL)")
    a.execute("INSERT INTO jobs SELECT n, 'ready' FROM generate_series(1, 4) n")

    with a.transaction():
        a.execute("SELECT * FROM jobs WHERE id = 1 FOR UPDATE")
        print("A locked job 1 (SELECT ... FOR UPDATE) and keeps its transaction open")
        try:
            with b.transaction():
                b.execute("SELECT * FROM jobs WHERE id = 1 FOR UPDATE NOWAIT")
        except errors.LockNotAvailable:
            print("B: FOR UPDATE NOWAIT on job 1 -> LockNotAvailable (instead of waiting)")
        # Catch a database error OUTSIDE the transaction block: the error aborts the
        # transaction, and leaving the block through the exception rolls it back openly.
        try:
            with b.transaction():
                b.execute("SET LOCAL lock_timeout = '200ms'")
                b.execute("UPDATE jobs SET state = 'taken' WHERE id = 1")
        except errors.LockNotAvailable:
            print("B: UPDATE of job 1 waited 200 ms (lock_timeout) and gave up; rolled back")
        # Caught INSIDE the block instead, the error leaves an aborted transaction behind:
        # the block then ends "normally", PostgreSQL answers its COMMIT with a ROLLBACK, and
        # everything done before the error is silently lost. A nested block (a SAVEPOINT)
        # limits the damage to itself.
        with b.transaction():
            b.execute("INSERT INTO jobs VALUES (5, 'ready')")
            try:
                with b.transaction():  # SAVEPOINT
                    b.execute("SELECT * FROM jobs WHERE id = 1 FOR UPDATE NOWAIT")
            except errors.Error as error:
                print(
                    f"B: {type(error).__name__} inside a savepoint: only the savepoint rolls back"
                )
        print(
            "B: job 5, inserted before the error, is kept:",
            b.execute("SELECT id FROM jobs WHERE id = 5").fetchone() is not None,
        )
        with b.transaction():  # DON'T: the same, caught inside the block without a savepoint
            b.execute("INSERT INTO jobs VALUES (6, 'ready')")
            try:  # noqa: SIM105 - spelled out: this is the mistake on show
                b.execute("SELECT * FROM jobs WHERE id = 1 FOR UPDATE NOWAIT")
            except errors.LockNotAvailable:
                pass  # the transaction is aborted now; the block's COMMIT becomes a ROLLBACK
        print(
            "B: job 6, caught inside the block without a savepoint, is silently lost:",
            b.execute("SELECT id FROM jobs WHERE id = 6").fetchone() is None,
        )
        with b.transaction():
            row = b.execute(
                "SELECT id FROM jobs ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
            ).fetchone()
            print("B: FOR UPDATE SKIP LOCKED took the next free job:", row[0] if row else None)
    print("A committed: its lock is released")
    with b.transaction():
        b.execute("UPDATE jobs SET state = 'done' WHERE id = 1")
    print(
        "B updated job 1 without waiting:",
        b.execute("SELECT state FROM jobs WHERE id = 1").fetchone(),
    )


if __name__ == "__main__":
    main()
