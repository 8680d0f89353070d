"""04.1 — parameterized queries that resist SQL injection."""

from __future__ import annotations

from typing import ClassVar

import psycopg
import pytest
from psycopg import sql

from journey.targets import load

safe_queries = load(__file__, "safe_queries")

HOSTILE_NAMES = [
    "' OR 1=1 --",
    "'; DROP TABLE users; --",
    "x' UNION SELECT 1, 'hacked', 'h@x' --",
    "Robert'); DROP TABLE users;--",
]


def seed(conn: psycopg.Connection) -> dict[str, int]:
    conn.execute(safe_queries.SCHEMA_SQL)
    people = {
        "Ada": "ada@example.com",
        "Alan": "alan@example.com",
        "O'Brien": "obrien@example.com",
        "100% Bob": "bob@example.com",
        "snake_case": "snake@example.com",
    }
    return {name: safe_queries.add_user(conn, name, email) for name, email in people.items()}


def users_table_exists(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT to_regclass('users') IS NOT NULL").fetchone()
    return bool(row and row[0])


def user_count(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT count(*) FROM users").fetchone()
    assert row is not None
    return int(row[0])


def test_add_user_returns_ids_and_find_by_name_returns_the_exact_match(
    pg_conn: psycopg.Connection,
) -> None:
    ids = seed(pg_conn)
    assert len(set(ids.values())) == 5, (
        "add_user returns the new row's id, a different one each time"
    )
    found = safe_queries.find_by_name(pg_conn, "Ada")
    assert found == [safe_queries.User(id=ids["Ada"], name="Ada", email="ada@example.com")], (
        "find_by_name returns User rows for the exact name only"
    )
    assert safe_queries.find_by_name(pg_conn, "ada") == [], "an exact match is case-sensitive"
    assert safe_queries.find_by_name(pg_conn, "Nobody") == [], "no match is an empty list"


def test_a_name_with_a_quote_is_just_a_name(pg_conn: psycopg.Connection) -> None:
    ids = seed(pg_conn)
    found = safe_queries.find_by_name(pg_conn, "O'Brien")
    assert [u.id for u in found] == [ids["O'Brien"]], (
        "a quote in a value must not break the query: pass values as parameters"
    )


@pytest.mark.parametrize("hostile", HOSTILE_NAMES)
def test_hostile_input_matches_nothing_and_harms_nothing(
    pg_conn: psycopg.Connection, hostile: str
) -> None:
    seed(pg_conn)
    found = safe_queries.find_by_name(pg_conn, hostile)
    assert found == [], f"{hostile!r} is a name like any other: no user has it, so no rows"
    assert users_table_exists(pg_conn), "the users table must survive hostile input"
    assert user_count(pg_conn) == 5, "hostile input must not change any row"


@pytest.mark.parametrize("hostile", HOSTILE_NAMES)
def test_hostile_input_is_stored_literally(pg_conn: psycopg.Connection, hostile: str) -> None:
    seed(pg_conn)
    new_id = safe_queries.add_user(pg_conn, hostile, "mallory@example.com")
    assert users_table_exists(pg_conn), "the users table must survive a hostile insert"
    found = safe_queries.find_by_name(pg_conn, hostile)
    assert [(u.id, u.name) for u in found] == [(new_id, hostile)], (
        "the hostile text is stored and found back exactly as given, and only that row"
    )


class RecordingCursor(psycopg.Cursor):
    """A cursor that remembers the SQL text of every statement it is asked to run."""

    texts: ClassVar[list[str]] = []

    def execute(self, query, params=None, **kwargs):
        text = query.as_string(self) if isinstance(query, sql.Composable) else str(query)
        RecordingCursor.texts.append(text)
        return super().execute(query, params, **kwargs)


def test_values_never_become_part_of_the_sql_text(postgres_url: str) -> None:
    RecordingCursor.texts = []
    marker = "Zq7marker"
    with psycopg.connect(postgres_url, autocommit=True, cursor_factory=RecordingCursor) as conn:
        conn.execute(safe_queries.SCHEMA_SQL)
        new_id = safe_queries.add_user(conn, f"{marker} O'Hara", f"{marker}@example.com")
        found = safe_queries.find_by_name(conn, f"{marker} O'Hara")
        searched = safe_queries.search_by_name(conn, marker)
    assert [u.id for u in found] == [new_id], "the user is stored and found back by name"
    assert [u.id for u in searched] == [new_id], "and found back by a search"
    leaked = [text for text in RecordingCursor.texts if marker in text]
    assert not leaked, (
        f"a value was pasted into the SQL text: {leaked[0]!r}. Escaping quotes by hand is still "
        "string formatting: write %s placeholders and pass the values separately"
    )


def test_search_by_name_ignores_case_and_treats_wildcards_literally(
    pg_conn: psycopg.Connection,
) -> None:
    ids = seed(pg_conn)
    names = [u.name for u in safe_queries.search_by_name(pg_conn, "a")]
    assert names == ["Ada", "Alan", "snake_case"], "search is a 'contains' match"
    shouted = [u.name for u in safe_queries.search_by_name(pg_conn, "AL")]
    assert shouted == ["Alan"], "search ignores case: 'AL' finds 'Alan' (ILIKE, not LIKE)"
    percent = safe_queries.search_by_name(pg_conn, "%")
    assert [u.id for u in percent] == [ids["100% Bob"]], "'%' matches a literal percent sign only"
    underscore = safe_queries.search_by_name(pg_conn, "_")
    assert [u.id for u in underscore] == [ids["snake_case"]], "'_' matches a literal underscore"
    windows = safe_queries.add_user(pg_conn, "C:\\Temp", "temp@example.com")
    backslash = safe_queries.search_by_name(pg_conn, "\\")
    assert [u.id for u in backslash] == [windows], (
        "a backslash matches a literal backslash: escape it too (first), or it escapes the "
        "closing % of the pattern"
    )
    assert safe_queries.search_by_name(pg_conn, "' OR 1=1 --") == [], "hostile input finds nothing"


def test_list_users_sorts_by_an_allowed_column(pg_conn: psycopg.Connection) -> None:
    seed(pg_conn)
    by_name = [u.name for u in safe_queries.list_users(pg_conn, order_by="name")]
    assert by_name == sorted(by_name), "order_by='name' sorts by name"
    by_email_desc = [u.email for u in safe_queries.list_users(pg_conn, "email", descending=True)]
    assert by_email_desc == sorted(by_email_desc, reverse=True), "descending=True reverses it"
    assert len(safe_queries.list_users(pg_conn, "id", limit=2)) == 2, "limit caps the rows"


def test_ties_are_broken_by_id_in_the_same_direction(pg_conn: psycopg.Connection) -> None:
    seed(pg_conn)
    first = safe_queries.add_user(pg_conn, "Sam", "sam1@example.com")
    second = safe_queries.add_user(pg_conn, "Sam", "sam2@example.com")
    ascending = [u.id for u in safe_queries.list_users(pg_conn, "name") if u.name == "Sam"]
    assert ascending == [first, second], "two users with the same name: the smaller id first"
    descending = [
        u.id for u in safe_queries.list_users(pg_conn, "name", descending=True) if u.name == "Sam"
    ]
    assert descending == [second, first], (
        "descending=True reverses the tie-break too: ORDER BY name DESC, id DESC"
    )


@pytest.mark.parametrize("limit", [1, 1000])
def test_the_smallest_and_largest_limits_are_allowed(
    pg_conn: psycopg.Connection, limit: int
) -> None:
    seed(pg_conn)
    assert len(safe_queries.list_users(pg_conn, limit=limit)) == min(limit, 5), (
        f"limit={limit} is allowed: 1 <= limit <= MAX_LIMIT ({safe_queries.MAX_LIMIT})"
    )


@pytest.mark.parametrize(
    "column", ["name; DROP TABLE users", "password", "id DESC, (SELECT 1)", "NAME"]
)
def test_list_users_refuses_columns_outside_the_allow_list(
    pg_conn: psycopg.Connection, column: str
) -> None:
    seed(pg_conn)
    with pytest.raises(ValueError, match="sort"):
        safe_queries.list_users(pg_conn, order_by=column)
    assert users_table_exists(pg_conn), "a refused column must never reach the database"


@pytest.mark.parametrize("limit", [0, -1, 1001])
def test_list_users_refuses_a_bad_limit(pg_conn: psycopg.Connection, limit: int) -> None:
    seed(pg_conn)
    with pytest.raises(ValueError, match="limit"):
        safe_queries.list_users(pg_conn, limit=limit)
