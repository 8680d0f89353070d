"""04.1 — Parameterized queries that resist SQL injection (psycopg 3).

Every function takes an open ``psycopg.Connection`` whose search path already contains the
``users`` table of ``SCHEMA_SQL``.

Rules:

- NEVER put a value into SQL text with f-strings, ``%`` or ``+``. Pass values as parameters:
  ``conn.execute("... WHERE name = %s", (name,))``. The driver sends them apart from the SQL,
  so ``' OR 1=1 --`` is just an odd name, never code.
- Identifiers (a column to sort by) cannot be parameters. Check them against an allow-list
  (``SORTABLE_COLUMNS``), then compose them with ``psycopg.sql.Identifier``.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

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
    """Inserts a user and returns the new id (``INSERT ... RETURNING id``).

    ``name`` and ``email`` may contain any characters, quotes and semicolons included: they
    are stored exactly as given.
    """
    raise NotImplementedError("04.1: INSERT the user with %s parameters and return its id")


def find_by_name(conn: psycopg.Connection, name: str) -> list[User]:
    """Users whose name is exactly ``name`` (case-sensitive), ordered by id; [] when none.

    Hostile input such as ``"' OR 1=1 --"`` or ``"'; DROP TABLE users; --"`` must match
    nothing (no user has that name) and must leave the table and its rows untouched.
    """
    raise NotImplementedError("04.1: SELECT ... WHERE name = %s, mapping rows to User")


def search_by_name(conn: psycopg.Connection, fragment: str) -> list[User]:
    """Users whose name contains ``fragment``, ignoring case, ordered by id.

    ``%`` and ``_`` (LIKE wildcards) and ``\\`` in the fragment match themselves: searching
    for ``"%"`` finds only names with a percent sign. Escape them before building the pattern.
    """
    raise NotImplementedError("04.1: escape \\, % and _, then ILIKE %s with '%' + fragment + '%'")


def list_users(
    conn: psycopg.Connection,
    order_by: str = "id",
    descending: bool = False,
    limit: int = 100,
) -> list[User]:
    """At most ``limit`` users sorted by ``order_by`` (ties broken by id, in the same direction).

    Raises ValueError (the message says it cannot *sort* by that column) when ``order_by`` is
    not in SORTABLE_COLUMNS, exactly as spelled; nothing reaches the database in that case.
    Raises ValueError (the message mentions the *limit*) unless 1 <= limit <= MAX_LIMIT.
    Compose the column with ``psycopg.sql.Identifier``; pass the limit as a parameter.
    """
    raise NotImplementedError("04.1: allow-list the column, compose it with psycopg.sql")
