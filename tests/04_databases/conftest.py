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
    """A SQLAlchemy engine (psycopg 3 driver) whose connections start in this test's schema."""
    from sqlalchemy import create_engine

    from journey.pg import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(postgres_url))
    try:
        yield engine
    finally:
        engine.dispose()
