"""PostgreSQL housekeeping for tests: a database per test session, a schema per test."""

from __future__ import annotations

import os
import re
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

TEST_DATABASE = re.compile(r"^journey_test_(?P<pid>\d+)_[0-9a-f]+$")
# Set by a parent that runs many short test sessions (--verify-mutants, journey check --watch):
# the test database every session uses, instead of creating and dropping one each time.
SESSION_DATABASE_ENV = "JOURNEY_TEST_DATABASE_URL"


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def with_search_path(url: str, schema: str) -> str:
    """Adds ``options=-c search_path=<schema>`` so every connection starts in that schema."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["options"] = f"-csearch_path={schema}"
    return urlunsplit(parts._replace(query=urlencode(query)))


def sqlalchemy_url(url: str) -> str:
    """The same database as a SQLAlchemy URL that uses psycopg 3."""
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


def create_test_database(admin_url: str) -> str:
    name = f"journey_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with _admin(admin_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(admin_url, name)


def drop_database(admin_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with _admin(admin_url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def drop_orphaned_test_databases(admin_url: str) -> None:
    """Drops test databases whose run was killed before it could clean up after itself."""
    with _admin(admin_url) as conn:
        names = [row[0] for row in conn.execute("SELECT datname FROM pg_database")]
        for name in names:
            match = TEST_DATABASE.match(name)
            if match and not _pid_alive(int(match["pid"])):
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def create_schema(database_url: str, schema: str) -> str:
    with _admin(database_url) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    return with_search_path(database_url, schema)


def drop_schema(database_url: str, schema: str) -> None:
    with _admin(database_url) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
