"""The outbox relay against real PostgreSQL and Redis, in this process, on a database and a
stream of its own: it never trims entries the group has not acknowledged, it stops publishing
when the stream is full, and it publishes again what vanished unacknowledged."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from journey.pytest_plugin import require_service

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
ROOT = Path(__file__).resolve().parents[2]
GROUP = "notifier"


@pytest.fixture
def outbox() -> Iterator[tuple[str, str, str]]:
    """A freshly migrated orders database, and a stream name nobody else uses."""
    import psycopg
    from psycopg import sql

    from capstone.common.db import migrate
    from capstone.runner import Config

    postgres_url, redis_url = require_service("postgres"), require_service("redis")
    prefix = f"shoptest_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    config = Config(postgres_url=postgres_url, db_prefix=prefix)
    name = config.database_name("orders")
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    stream = f"{prefix}:orders.events"
    try:
        migrate(ROOT / "capstone" / "orders" / "migrations", config.database_url("orders"))
        yield config.database_url("orders"), redis_url, stream
    finally:
        import redis

        with redis.Redis.from_url(redis_url) as client:
            client.delete(stream)
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _add_events(db, count):
    from capstone.common.events import ORDER_PLACED, Event
    from capstone.orders.outbox import add_event

    def add(session):
        for _ in range(count):
            payload = {"order_id": str(uuid.uuid4()), "user_id": "u", "items": []}
            add_event(session, Event(type=ORDER_PLACED, payload=payload))

    return db.run(add)


def _counts(db):
    from sqlalchemy import func, select

    from capstone.orders.models import OutboxMessage as Row

    def count(session):
        def n(*where):
            return session.scalar(select(func.count()).select_from(Row).where(*where))

        return {
            "unsent": n(Row.sent_at.is_(None)),
            "waiting": n(Row.sent_at.is_not(None), Row.acked_at.is_(None)),
            "acknowledged": n(Row.acked_at.is_not(None)),
        }

    return db.run(count)


async def _consume(redis, stream, count):
    """What the notifier does: read with the group, then acknowledge."""
    reply = await redis.xreadgroup(GROUP, "c1", {stream: ">"}, count=count)
    ids = [entry_id for _, entries in reply for entry_id, _ in entries]
    if ids:
        await redis.xack(stream, GROUP, *ids)
    return len(ids)


def _relay(db, redis, stream, max_entries):
    from capstone.orders.outbox import OutboxRelay

    return OutboxRelay(
        db, redis, stream, 0.05, group=GROUP, max_entries=max_entries, check_after_seconds=0
    )


def test_a_full_stream_pauses_publishing_and_never_drops_unread_entries(outbox):
    import redis.asyncio as aioredis
    from prometheus_client import REGISTRY

    from capstone.common.db import Database

    database_url, redis_url, stream = outbox

    async def scenario():
        db, redis = (
            Database(database_url, pool_size=2, max_overflow=0),
            aioredis.from_url(redis_url),
        )
        try:
            await redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
            relay = _relay(db, redis, stream, max_entries=5)
            await _add_events(db, 8)
            while await relay.relay_once():
                pass
            assert await redis.xlen(stream) == 5, "the stream holds no more than its cap"
            assert relay.paused, "the relay refuses to publish rather than trim unread entries"
            assert REGISTRY.get_sample_value("outbox_publishing_paused") == 1
            assert await _counts(db) == {"unsent": 3, "waiting": 5, "acknowledged": 0}

            assert await _consume(redis, stream, 3) == 3  # the notifier catches up a little
            await relay.check()
            assert await _counts(db) == {"unsent": 3, "waiting": 2, "acknowledged": 3}
            assert not relay.paused, "the acknowledged entries were trimmed: room again"
            while await relay.relay_once():
                pass
            assert await _counts(db) == {"unsent": 0, "waiting": 5, "acknowledged": 3}
            assert await redis.xlen(stream) == 5, "full again, with unread entries only"

            assert await _consume(redis, stream, 100) == 5, "every event was read, none dropped"
            await relay.check()
            assert await _counts(db) == {"unsent": 0, "waiting": 0, "acknowledged": 8}
            assert not relay.paused, "caught up: publishing again"
            assert REGISTRY.get_sample_value("outbox_publishing_paused") == 0
        finally:
            await redis.aclose()
            db.close()

    asyncio.run(scenario())


def test_entries_that_vanish_unacknowledged_are_published_again(outbox):
    import redis.asyncio as aioredis

    from capstone.common.db import Database
    from capstone.common.events import Event

    database_url, redis_url, stream = outbox

    async def scenario():
        db, redis = (
            Database(database_url, pool_size=2, max_overflow=0),
            aioredis.from_url(redis_url),
        )
        try:
            await redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
            relay = _relay(db, redis, stream, max_entries=100)
            await _add_events(db, 3)
            assert await relay.relay_once() == 3
            first = {Event.from_fields(f).event_id for _, f in await redis.xrange(stream)}
            assert await _consume(redis, stream, 1) == 1
            await relay.check()
            assert await _counts(db) == {"unsent": 0, "waiting": 2, "acknowledged": 1}

            await redis.delete(stream)  # Redis restarted without persistence: stream and group
            await relay.check()
            again = {Event.from_fields(f).event_id for _, f in await redis.xrange(stream)}
            assert len(again) == 2, "the two unacknowledged events are in the stream again"
            assert again < first, "as the same events (same ids), so duplicates are harmless"

            await redis.xgroup_create(stream, GROUP, id="0")  # the notifier joins again
            assert await _consume(redis, stream, 100) == 2
            await relay.check()
            assert await _counts(db) == {"unsent": 0, "waiting": 0, "acknowledged": 3}
        finally:
            await redis.aclose()
            db.close()

    asyncio.run(scenario())
