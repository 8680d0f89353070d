"""Lesson 07's fixtures clean up after a test that fails: no stream, key, queue, exchange,
schema or process is left behind.

A deliberately failing test runs in a pytest of its own, with this lesson's conftest.py next to
it. It makes one of everything the lesson's tests make (a stream and a consumer group, a
RabbitMQ queue and exchange, a private redis-server, a Celery worker with its pool process and
its keys, a table in the test's schema), writes down what it made, and fails. Then this test
looks for each of them. (Not an exercise test: it runs with ``--solutions``.)
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from journey.catalog import ROOT, TESTS_DIR

INNER_TEST = """
import asyncio, json, pathlib, time

import aio_pika
from sqlalchemy import text


def test_makes_one_of_everything_then_fails(
    redis_space, rabbit_names, rabbitmq_url, private_redis, celery_worker, sessions, postgres_url
):
    stream = redis_space.key("orders")
    redis_space.client.xgroup_create(stream, "notifier", id="0", mkstream=True)
    redis_space.client.xadd(stream, {"event": "{}"})

    queue, exchange = rabbit_names("work"), rabbit_names("events")

    async def declare():
        async with await aio_pika.connect(rabbitmq_url) as connection:
            channel = await connection.channel()
            ex = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC)
            q = await channel.declare_queue(
                queue, durable=True, arguments={"x-queue-type": "quorum"}
            )
            await q.bind(ex, "order.#")

    asyncio.run(declare())

    import redis
    private = redis.Redis.from_url(private_redis.url)
    private.xadd("orders", {"event": "{}"})
    private.close()

    prefix = redis_space.prefix + ":"
    from journey.catalog import SOLUTIONS_DIR

    module_file = str(SOLUTIONS_DIR / "07_messaging" / "celery_tasks.py")
    worker = celery_worker(redis_space.url, prefix, prefix + "receipts", module_file)
    deadline = time.monotonic() + 60
    while not list(redis_space.client.scan_iter(match=prefix + "_kombu*")):
        assert worker.process.poll() is None, worker.output()
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.05)

    with sessions.begin() as session:
        session.execute(text("CREATE TABLE leftovers (id int)"))
        schema = session.scalar(text("SELECT current_schema()"))

    made = {
        "prefix": redis_space.prefix,
        "names": [queue, exchange],
        "worker_group": worker.process.pid,
        "private_redis_pid": private_redis.process.pid,
        "private_redis_port": private_redis.port,
        "schema": schema,
        "database": postgres_url.split("?")[0].rsplit("/", 1)[-1],
    }
    pathlib.Path("made.json").write_text(json.dumps(made))
    assert False, "this test fails on purpose: clean-up must happen all the same"
"""


def _gone(signal_zero: Callable[[], None], seconds: float = 10.0) -> bool:
    """True once ``signal_zero`` raises ProcessLookupError: the process (or group) is gone.
    A process killed a moment ago may still wait to be reaped, so allow it a few seconds."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            signal_zero()
        except ProcessLookupError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.rabbitmq
@pytest.mark.timeout(180)
def test_a_failed_test_leaves_nothing_behind(tmp_path: Path) -> None:
    import psycopg
    import redis

    from journey.services import SERVICES

    shutil.copy(TESTS_DIR / "07_messaging" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_inner.py").write_text(INNER_TEST, encoding="utf-8")
    env = {**os.environ, "JOURNEY_TARGET": "solutions"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    inner = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "journey.pytest_plugin", "test_inner.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert inner.returncode == 1, inner.stdout[-3000:] + inner.stderr[-2000:]
    assert "fails on purpose" in inner.stdout, inner.stdout[-3000:]
    made = json.loads((tmp_path / "made.json").read_text(encoding="utf-8"))

    client = redis.Redis.from_url(SERVICES["redis"].url)
    try:
        left = list(client.scan_iter(match=f"{made['prefix']}*"))
    finally:
        client.close()
    assert not left, f"the stream and the Celery keys must go with the test's prefix: {left[:5]}"

    assert _gone(lambda: os.killpg(made["worker_group"], 0)), (
        "the Celery worker and its pool processes are stopped"
    )
    assert _gone(lambda: os.kill(made["private_redis_pid"], 0)), "the private redis is stopped"
    assert not _port_open(made["private_redis_port"]), "nothing listens on its port any more"

    with psycopg.connect(SERVICES["postgres"].url) as conn:
        databases = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
    assert made["database"] not in databases, "the session's database is dropped"

    async def rabbit_leftovers() -> list[str]:
        import aio_pika

        found = []
        async with await aio_pika.connect(SERVICES["rabbitmq"].url) as connection:
            for name in made["names"]:
                for kind in ("queue", "exchange"):
                    channel = await connection.channel()
                    try:
                        if kind == "queue":
                            await channel.declare_queue(name, passive=True)
                        else:
                            await channel.get_exchange(name, ensure=True)
                        found.append(f"{kind} {name}")
                    except aio_pika.exceptions.ChannelClosed:
                        pass
        return found

    assert asyncio.run(rabbit_leftovers()) == [], "queues and exchanges are deleted"
