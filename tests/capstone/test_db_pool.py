"""The services' connection pool: a connection the database closed while it sat idle is replaced
before use, and a connection in steady use costs no extra round trip."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, text

pytestmark = pytest.mark.postgres


def _backend_pid(db: object) -> int:
    return int(asyncio.run(db.run(lambda s: s.scalar(text("SELECT pg_backend_pid()")))))  # type: ignore[attr-defined]


def test_a_connection_closed_while_idle_is_replaced(postgres_database, monkeypatch) -> None:
    import psycopg

    from capstone.common import db as db_module
    from journey.pg import sqlalchemy_url

    db = db_module.Database(sqlalchemy_url(postgres_database), pool_size=1, max_overflow=0)
    try:
        first = _backend_pid(db)
        with psycopg.connect(postgres_database, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        # the pooled connection is now dead; once it counts as idle, it is checked first
        monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
        assert _backend_pid(db) != first, "a fresh connection answered, not an error"
    finally:
        db.close()


def test_a_busy_connection_is_not_pinged(postgres_database) -> None:
    """Every statement sent on the driver's connections is counted, the pool's own included."""
    import psycopg

    from capstone.common.db import Database
    from journey.pg import sqlalchemy_url

    sent: list[str] = []

    class CountingCursor(psycopg.Cursor):  # type: ignore[type-arg]
        def execute(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
            sent.append(str(query))
            return super().execute(query, *args, **kwargs)

    db = Database(sqlalchemy_url(postgres_database), pool_size=1, max_overflow=0)
    event.listen(
        db.engine, "connect", lambda conn, _: setattr(conn, "cursor_factory", CountingCursor)
    )
    try:
        for _ in range(5):
            _backend_pid(db)
    finally:
        db.close()
    assert sent == ["SELECT pg_backend_pid()"] * 5, "one statement a transaction, no ping"
