"""Shared fixtures for lesson 04: connections to this test's own PostgreSQL schema.

Fixtures only open connections; exercise code always runs in the test body.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import psycopg
    from sqlalchemy import Engine


@pytest.fixture
def pg_conn(postgres_url: str) -> Iterator[psycopg.Connection]:
    """A psycopg connection in autocommit mode, in this test's fresh schema."""
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    """A SQLAlchemy engine (psycopg 3 driver) whose connections start in this test's schema.

    At the end every connection it ever opened is closed, even one that code under test
    left checked out in an open transaction: its locks would otherwise keep this test's
    schema from being dropped.
    """
    from sqlalchemy import create_engine, event

    from journey.pg import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(postgres_url))
    opened: list[psycopg.Connection] = []
    event.listen(engine, "connect", lambda dbapi_conn, _record: opened.append(dbapi_conn))
    try:
        yield engine
    finally:
        for conn in opened:
            conn.close()  # a no-op for one already closed; the server rolls back the rest
        engine.dispose()
