"""Row locks between two connections: FOR UPDATE, NOWAIT and SKIP LOCKED (psycopg 3).

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
        with b.transaction():
            b.execute("SET LOCAL lock_timeout = '200ms'")
            try:
                b.execute("UPDATE jobs SET state = 'taken' WHERE id = 1")
            except errors.LockNotAvailable:
                print("B: UPDATE of job 1 waited 200 ms (lock_timeout) and gave up")
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
