"""Rejects the largest allowed limit, MAX_LIMIT.

04.1 — Parameterized queries that resist SQL injection (psycopg 3).

Values travel to PostgreSQL apart from the SQL text (``%s`` placeholders), so no input can
change the meaning of a query. Identifiers such as a column to sort by cannot be parameters:
they are checked against an allow-list and composed with ``psycopg.sql.Identifier``.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.rows import class_row

SCHEMA_SQL = """
CREATE TABLE users (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name  text NOT NULL,
    email text NOT NULL UNIQUE
)
"""

SORTABLE_COLUMNS = frozenset({"id", "name", "email"})
MAX_LIMIT = 1000


@dataclass(frozen=True)
class User:
    id: int
    name: str
    email: str


def add_user(conn: psycopg.Connection, name: str, email: str) -> int:
    """Inserts a user (any characters allowed in name and email) and returns its new id."""
    row = conn.execute(
        "INSERT INTO users (name, email) VALUES (%s, %s) RETURNING id", (name, email)
    ).fetchone()
    assert row is not None  # RETURNING always yields the inserted row
    return int(row[0])


def find_by_name(conn: psycopg.Connection, name: str) -> list[User]:
    """Users whose name is exactly ``name`` (case-sensitive), ordered by id."""
    with conn.cursor(row_factory=class_row(User)) as cur:
        cur.execute("SELECT id, name, email FROM users WHERE name = %s ORDER BY id", (name,))
        return cur.fetchall()


def _escape_like(fragment: str) -> str:
    # backslash first, or we would double the escapes we add for % and _
    return fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_by_name(conn: psycopg.Connection, fragment: str) -> list[User]:
    """Users whose name contains ``fragment``, ignoring case; % and _ match themselves."""
    pattern = f"%{_escape_like(fragment)}%"
    with conn.cursor(row_factory=class_row(User)) as cur:
        cur.execute("SELECT id, name, email FROM users WHERE name ILIKE %s ORDER BY id", (pattern,))
        return cur.fetchall()


def list_users(
    conn: psycopg.Connection,
    order_by: str = "id",
    descending: bool = False,
    limit: int = 100,
) -> list[User]:
    """Users sorted by an allowed column (ties broken by id), at most ``limit`` of them."""
    if order_by not in SORTABLE_COLUMNS:
        allowed = ", ".join(sorted(SORTABLE_COLUMNS))
        raise ValueError(f"cannot sort by {order_by!r}; choose one of: {allowed}")
    if not 1 <= limit < MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    # the direction comes from a bool, never from user text, so SQL() of a literal is safe
    direction = sql.SQL("DESC" if descending else "ASC")
    query = sql.SQL(
        "SELECT id, name, email FROM users ORDER BY {column} {direction}, id {direction} LIMIT %s"
    ).format(column=sql.Identifier(order_by), direction=direction)
    with conn.cursor(row_factory=class_row(User)) as cur:
        cur.execute(query, (limit,))
        return cur.fetchall()
