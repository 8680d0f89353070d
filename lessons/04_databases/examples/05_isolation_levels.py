"""Isolation levels in PostgreSQL: what REPEATABLE READ catches, and the write skew only
SERIALIZABLE catches.

Two doctors are on call; the rule is "at least one stays on call". Each transaction checks
the rule, then takes *its own* doctor off call. They write different rows, so no row lock and
no "concurrent update" error stops them: both commits leave nobody on call. That anomaly is
write skew. Then the same two transactions under SERIALIZABLE, where PostgreSQL refuses one,
and the retry loop that every SERIALIZABLE transaction needs.

    uv run python lessons/04_databases/examples/05_isolation_levels.py
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable

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
            options = f"-csearch_path={schema}"
            with (
                psycopg.connect(URL, options=options) as a,
                psycopg.connect(URL, options=options) as b,
            ):
                demo(admin, schema, a, b)
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
            print(f"\ndropped schema {schema}")


def reset(admin: psycopg.Connection, schema: str) -> None:
    table = sql.Identifier(schema, "doctors")
    admin.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
    admin.execute(sql.SQL("CREATE TABLE {} (name text PRIMARY KEY, on_call bool)").format(table))
    admin.execute(sql.SQL("INSERT INTO {} VALUES ('alice', true), ('bob', true)").format(table))


def go_off_call(conn: psycopg.Connection, doctor: str) -> None:
    """The business rule, checked by a read, then a write of ONE row (this doctor's)."""
    (on_call,) = conn.execute("SELECT count(*) FROM doctors WHERE on_call").fetchone() or (0,)
    if on_call >= 2:
        conn.execute("UPDATE doctors SET on_call = false WHERE name = %s", (doctor,))


def interleave(a: psycopg.Connection, b: psycopg.Connection, level: str) -> str:
    """A and B both read, then both write, then both commit: the worst interleaving."""
    for conn in (a, b):
        conn.execute(sql.SQL("SET TRANSACTION ISOLATION LEVEL {}").format(sql.SQL(level)))
    a.execute("SELECT count(*) FROM doctors WHERE on_call")  # both transactions take their
    b.execute("SELECT count(*) FROM doctors WHERE on_call")  # snapshot before either writes
    go_off_call(a, "alice")
    try:
        go_off_call(b, "bob")
        a.commit()
        b.commit()  # under SERIALIZABLE, PostgreSQL refuses B here (or at its UPDATE)
    except errors.SerializationFailure as error:
        b.rollback()
        a.commit()  # a no-op when A already committed
        return f"B refused: {type(error).__name__}: {str(error).splitlines()[0]}"
    return "both committed"


def on_call(admin: psycopg.Connection, schema: str) -> list[str]:
    query = sql.SQL("SELECT name FROM {} WHERE on_call ORDER BY name")
    return [row[0] for row in admin.execute(query.format(sql.Identifier(schema, "doctors")))]


def demo(
    admin: psycopg.Connection, schema: str, a: psycopg.Connection, b: psycopg.Connection
) -> None:
    for level in ("READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"):
        reset(admin, schema)
        outcome = interleave(a, b, level)
        print(f"{level:<16}: {outcome}; on call now: {on_call(admin, schema) or 'NOBODY'}")

    print("\nREPEATABLE READ does catch two writes to the SAME row (a lost update):")
    reset(admin, schema)
    for conn in (a, b):
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        conn.execute("SELECT on_call FROM doctors WHERE name = 'alice'")
    a.execute("UPDATE doctors SET on_call = false WHERE name = 'alice'")
    a.commit()
    try:
        b.execute("UPDATE doctors SET on_call = NOT on_call WHERE name = 'alice'")
    except errors.SerializationFailure as error:
        print(f"  B: {type(error).__name__}: {str(error).splitlines()[0]}")
        b.rollback()

    print("\nSERIALIZABLE needs a retry loop: a refused transaction runs again, from the start")
    reset(admin, schema)
    attempts: list[str] = []

    def bob_goes_off_call(conn: psycopg.Connection) -> None:
        conn.execute("SELECT count(*) FROM doctors WHERE on_call")  # B's snapshot: 2 on call
        if not attempts:  # A runs its whole transaction in between, the first time only
            a.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
            go_off_call(a, "alice")
            a.commit()
        attempts.append("try")
        go_off_call(conn, "bob")

    tries = run_serializable(b, bob_goes_off_call)
    print(f"  B committed on attempt {tries}; on call now: {on_call(admin, schema)}")


def run_serializable(conn: psycopg.Connection, work: Callable[[psycopg.Connection], None]) -> int:
    """Runs ``work`` in a SERIALIZABLE transaction, again from the start when PostgreSQL
    refuses it (SerializationFailure); returns the attempt that committed."""
    for attempt in range(1, 6):
        try:
            conn.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
            work(conn)
            conn.commit()
            return attempt
        except errors.SerializationFailure as error:
            conn.rollback()
            print(f"  attempt {attempt}: {type(error).__name__}, retrying")
    raise RuntimeError("still conflicting after 5 attempts")


if __name__ == "__main__":
    main()
