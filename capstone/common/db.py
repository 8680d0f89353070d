"""Database helpers (lesson 04: SQLAlchemy 2 + Alembic; lesson 05: blocking work off the loop).

The services are asyncio programs, and they use SQLAlchemy's *synchronous* ORM in a thread pool of
their own: :meth:`Database.run` runs a function ``fn(session)`` inside one transaction on a worker
thread (committed when it returns, rolled back when it raises), so the event loop never blocks;
:meth:`Database.in_thread` runs code that opens its own sessions (a unit of work) the same way.
The pool has as many threads as the engine has connections, and the request id travels along
(the context is copied into the thread).

A transaction costs two round trips of its own (``BEGIN`` and ``COMMIT``). Work that is a single
statement is atomic without them: :meth:`Database.run_alone` runs ``fn(connection)`` in
*autocommit* mode, where every statement is its own transaction, so an ``INSERT ... ON CONFLICT``
costs one round trip instead of three. It is for one-statement jobs only: two statements there
are two transactions, and the first stays committed if the second fails.

Every service owns one database and its schema history: ``capstone/<service>/migrations``.
``python -m capstone.<service> migrate`` runs :func:`migrate`, a programmatic Alembic
``upgrade head``; each ``migrations/env.py`` calls :func:`run_alembic_env` with the service's own
``MetaData`` (see :func:`service_metadata`): its tables and nobody else's, so ``alembic revision
--autogenerate`` compares a service's database with that service's models only.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, MetaData, create_engine, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

T = TypeVar("T")
CONNECT_TIMEOUT_SECONDS = 3
PING_AFTER_IDLE_SECONDS = 2.0
# no statement may hold a connection (and a worker thread) longer than this; PostgreSQL cancels
# it, and the request answers 503 instead of waiting behind a lock or a runaway query
STATEMENT_TIMEOUT_MS = 5_000

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata() -> MetaData:
    """A new ``MetaData`` with the shop's naming convention: one per service, for its
    ``DeclarativeBase``, because each service has its own tables in its own database."""
    return MetaData(naming_convention=NAMING)


class Database:
    """An engine, its sessions, and the threads that use them.

    The pool keeps ``pool_size`` connections open and opens up to ``max_overflow`` more for a
    burst (each closed again after its transaction, which costs a new connection each time: size
    the pool for the usual load, the overflow for bursts). There are as many threads as
    connections, so a transaction never waits for a thread while it holds a connection.
    """

    def __init__(
        self,
        url: str,
        pool_size: int = 10,
        max_overflow: int = 10,
        statement_timeout_ms: int = STATEMENT_TIMEOUT_MS,
    ) -> None:
        self.engine = create_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            # a database that does not answer fails fast (and /health/ready says so) instead of
            # holding a worker thread for the operating system's TCP timeout
            connect_args={
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                "options": f"-c statement_timeout={int(statement_timeout_ms)}",
            },
        )
        event.listen(self.engine, "checkin", _note_idle_since)
        event.listen(self.engine, "checkout", _ping_if_idle)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # the same pool; a connection taken through this engine runs with autocommit on
        self.autocommit_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.executor = ThreadPoolExecutor(pool_size + max_overflow, thread_name_prefix="db")

    async def run(self, fn: Callable[[Session], T]) -> T:
        """``fn(session)`` in one transaction, on a worker thread."""
        return await self._on_a_worker(self._transaction, fn)

    async def run_core(self, fn: Callable[[Connection], T]) -> T:
        """``fn(connection)`` in one transaction on a worker thread, for SQLAlchemy Core
        statements (no ORM session: nothing to track, flush or synchronise)."""
        return await self._on_a_worker(self._core_transaction, fn)

    async def run_alone(self, fn: Callable[[Connection], T]) -> T:
        """``fn(connection)`` on a worker thread, each statement its own transaction (autocommit):
        for a job that is one statement, which is then one round trip."""
        return await self._on_a_worker(self._autocommit, fn)

    async def in_thread(self, fn: Callable[[], T]) -> T:
        """``fn()`` on a worker thread, for code that opens its own sessions from
        :attr:`sessions` and owns its transactions (a unit of work, like the catalog's store)."""
        context = contextvars.copy_context()  # the request id travels along
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, context.run, fn)

    async def _on_a_worker(
        self, work: Callable[[Callable[[Any], T]], T], fn: Callable[[Any], T]
    ) -> T:
        """``work(fn)`` on one of the pool's threads, with this task's context (request id)."""
        return await self.in_thread(functools.partial(work, fn))

    def _transaction(self, fn: Callable[[Session], T]) -> T:
        with self.sessions.begin() as session:
            return fn(session)

    def _core_transaction(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.begin() as connection:
            return fn(connection)

    def _autocommit(self, fn: Callable[[Connection], T]) -> T:
        with self.autocommit_engine.connect() as connection:
            return fn(connection)

    async def ping(self) -> None:
        await self.run(lambda session: session.execute(text("SELECT 1")))

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.engine.dispose()


def _note_idle_since(_: Any, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, _: Any) -> None:
    """Before a connection that sat idle is used, one ``SELECT 1``: the database may have closed
    it (a restart, an idle timeout) and the pool then opens a fresh one instead. A connection
    that was in use a moment ago is not pinged: ``pool_pre_ping`` would add a round trip to every
    transaction, and under load every connection is busy. A connection that breaks anyway makes
    SQLAlchemy drop every pooled connection opened before it (a disconnect invalidates the pool).
    """
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        dbapi_connection.rollback()
    except Exception as error:  # psycopg's error: the pool retries with a new connection
        raise DisconnectionError(str(error)) from error


def migrate(migrations_dir: Path, database_url: str) -> None:
    """``alembic upgrade head`` for one service, without an alembic.ini."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.attributes["database_url"] = database_url
    command.upgrade(config, "head")


def run_alembic_env(target_metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py`` (online mode only)."""
    from alembic import context

    url = context.config.attributes.get("database_url")
    if not url:
        raise RuntimeError("run migrations with `python -m capstone.<service> migrate`")
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
