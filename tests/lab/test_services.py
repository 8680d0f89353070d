"""The service harness isolates tests and cleans up after them, on the real services."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from journey import amqp, pg
from journey.pytest_plugin import RedisSpace, unique_name


@pytest.mark.postgres
def test_each_test_gets_an_empty_schema_of_its_own(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        schema = conn.execute("SELECT current_schema()").fetchone()
        assert schema is not None
        assert schema[0].startswith("t_"), "connections start in the test's own schema"
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchone()
        assert tables == (0,)
        conn.execute("CREATE TABLE accounts (id int)")  # no clash with any other test


@pytest.mark.postgres
def test_dropping_a_schema_removes_its_tables(postgres_database: str) -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = pg.create_schema(postgres_database, schema)
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE leftovers (id int)")
    pg.drop_schema(postgres_database, schema)
    with psycopg.connect(postgres_database) as conn:
        found = conn.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", [schema]
        ).fetchone()
    assert found == (0,)


@pytest.mark.postgres
def test_orphaned_test_databases_of_dead_runs_are_dropped(postgres_database: str) -> None:
    admin = pg.with_database(postgres_database, "postgres")
    dead_pid = 2**22 + 12345  # above Linux's pid_max default: no process has it
    name = f"journey_test_{dead_pid}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    pg.drop_orphaned_test_databases(admin)
    with psycopg.connect(admin) as conn:
        names = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
    assert name not in names
    assert postgres_database.rsplit("/", 1)[-1] in names, "a live run's database is kept"


@pytest.mark.redis
def test_redis_keys_live_under_the_tests_prefix(redis_space: RedisSpace) -> None:
    key = redis_space.key("cart", "42")
    assert key.startswith(redis_space.prefix)
    redis_space.client.set(key, "x")
    assert redis_space.client.get(key) == "x"


@pytest.mark.rabbitmq
def test_rabbitmq_names_are_unique_and_deleted(rabbitmq_url: str) -> None:
    import aio_pika

    first, second = unique_name("orders"), unique_name("orders")
    assert first != second

    async def declare() -> None:
        async with await aio_pika.connect(rabbitmq_url) as connection:
            channel = await connection.channel()
            await channel.declare_queue(first)
            await channel.declare_exchange(first, aio_pika.ExchangeType.TOPIC)

    async def exists(kind: str) -> bool:
        async with await aio_pika.connect(rabbitmq_url) as connection:
            channel = await connection.channel()
            try:
                if kind == "queue":
                    await channel.declare_queue(first, passive=True)
                else:
                    await channel.get_exchange(first, ensure=True)
            except aio_pika.exceptions.ChannelClosed:
                return False
            return True

    asyncio.run(declare())
    assert asyncio.run(exists("queue"))
    assert asyncio.run(exists("exchange"))
    amqp.delete_queues_and_exchanges(rabbitmq_url, [first, second])  # second never existed
    assert not asyncio.run(exists("queue"))
    assert not asyncio.run(exists("exchange"))


INNER_TEST = """
import json, pathlib
import psycopg
import aio_pika, asyncio

def test_makes_things_then_fails(postgres_url, postgres_database, redis_space, rabbit_names):
    queue = rabbit_names("orders")

    async def declare():
        async with await aio_pika.connect(RABBITMQ_URL) as connection:
            await (await connection.channel()).declare_queue(queue)

    asyncio.run(declare())
    redis_space.client.set(redis_space.key("cart"), "1")
    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TABLE leftovers (id int)")
    made = {"database": postgres_database.rsplit("/", 1)[-1],
            "prefix": redis_space.prefix, "queue": queue}
    pathlib.Path("made.json").write_text(json.dumps(made))
    assert False, "this test fails on purpose: clean-up must happen all the same"
"""


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.rabbitmq
def test_a_failed_test_leaves_nothing_behind(tmp_path: Path) -> None:
    """Runs a failing test that uses every service fixture, then looks for what it made."""
    import json
    import subprocess
    import sys

    import redis

    from journey.services import SERVICES

    rabbitmq_url = SERVICES["rabbitmq"].url
    (tmp_path / "test_inner.py").write_text(
        f"RABBITMQ_URL = {rabbitmq_url!r}\n{INNER_TEST}", encoding="utf-8"
    )
    inner = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "journey.pytest_plugin", "test_inner.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert inner.returncode == 1, inner.stdout[-2000:]
    assert "fails on purpose" in inner.stdout
    made = json.loads((tmp_path / "made.json").read_text(encoding="utf-8"))

    with psycopg.connect(SERVICES["postgres"].url) as conn:
        databases = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
    assert made["database"] not in databases, "the session's test database is dropped"
    client = redis.Redis.from_url(SERVICES["redis"].url)
    try:
        assert not list(client.scan_iter(match=f"{made['prefix']}*")), "the test's keys are gone"
    finally:
        client.close()

    async def queue_exists() -> bool:
        import aio_pika

        async with await aio_pika.connect(rabbitmq_url) as connection:
            try:
                await (await connection.channel()).declare_queue(made["queue"], passive=True)
            except aio_pika.exceptions.ChannelClosed:
                return False
            return True

    assert not asyncio.run(queue_exists()), "the test's queue is deleted"
