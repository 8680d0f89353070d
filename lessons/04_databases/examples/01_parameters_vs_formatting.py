"""Why SQL is built with parameters, never with string formatting (psycopg 3).

Creates a schema of its own, shows an injection through an f-string, the same lookup done
safely with %s parameters, and a dynamic ORDER BY composed with psycopg.sql; then drops it.

    uv run python lessons/04_databases/examples/01_parameters_vs_formatting.py
"""

from __future__ import annotations

import os
import uuid

import psycopg
from psycopg import sql

URL = (
    os.environ.get("JOURNEY_POSTGRES_URL")
    or "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
)
SORTABLE = {"id", "name", "email"}


def main() -> None:
    schema = f"journey_example_{uuid.uuid4().hex[:8]}"  # unique: never clashes with anything
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            demo(conn)
        finally:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
            print(f"\ndropped schema {schema}")


def demo(conn: psycopg.Connection) -> None:
    conn.execute("CREATE TABLE users (id int PRIMARY KEY, name text, email text)")
    conn.cursor().executemany(
        "INSERT INTO users (id, name, email) VALUES (%s, %s, %s)",
        [(1, "ada", "ada@example.com"), (2, "alan", "alan@example.com"), (3, "O'Brien", "ob@x")],
    )

    hostile = "' OR 1=1 --"
    unsafe = f"SELECT name FROM users WHERE name = '{hostile}'"  # DON'T: the input becomes code
    print("f-string query :", unsafe)
    print("  returns      :", [r[0] for r in conn.execute(unsafe)], "<- every row leaked")

    safe = conn.execute("SELECT name FROM users WHERE name = %s", (hostile,)).fetchall()
    print("parameter query: SELECT name FROM users WHERE name = %s", (hostile,))
    print("  returns      :", safe, "<- the input is only a value")

    quoted = conn.execute("SELECT id FROM users WHERE name = %s", ("O'Brien",)).fetchall()
    print("a quote in a value just works:", quoted)

    # identifiers cannot be parameters: allow-list them, then compose with sql.Identifier
    for column in ["email", "name; DROP TABLE users"]:
        if column not in SORTABLE:
            print(f"refused ORDER BY {column!r}: not in the allow-list")
            continue
        query = sql.SQL("SELECT name FROM users ORDER BY {} DESC").format(sql.Identifier(column))
        print("composed       :", query.as_string(conn))
        print("  returns      :", [r[0] for r in conn.execute(query)])


if __name__ == "__main__":
    main()
