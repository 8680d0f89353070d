"""The orders service's glue around lesson 07's relay (07.8), against real PostgreSQL and Redis,
in this process, on a freshly migrated database and a stream of its own: the event is lesson
02's envelope with the request id beside it, and the metrics follow the relay. The relay itself
(acknowledgements, republishing, leases, back-pressure, trimming) is tested in lesson 07."""

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


def _settings(database_url, redis_url, stream, **options):
    from capstone.common.secrets import new_secret
    from capstone.orders.settings import OrdersSettings

    return OrdersSettings(
        database_url=database_url,
        redis_url=redis_url,
        events_stream=stream,
        internal_token=new_secret(),
        outbox_check_after_seconds=0,
        **options,
    )


def _metric(name):
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name) or 0.0


def test_an_order_event_goes_out_as_lesson_twos_envelope_with_its_request_id(outbox):
    import redis.asyncio as aioredis

    from capstone.common.db import Database
    from capstone.common.logging import request_scope
    from capstone.orders.outbox import add_event, build_relay
    from capstone.pieces import piece

    envelope = piece("events")
    database_url, redis_url, stream = outbox
    payload = {"order_id": str(uuid.uuid4()), "user_id": "u", "items": []}

    async def scenario():
        db = Database(database_url, pool_size=2, max_overflow=0)
        redis = aioredis.from_url(redis_url)
        try:
            with request_scope("req-1"):
                await db.run(lambda session: add_event(session, "order.placed", payload))
            relayed = _metric("outbox_relayed_total")
            relay = build_relay(db, redis, _settings(database_url, redis_url, stream))
            report = await relay.relay_once()
            assert _metric("outbox_relayed_total") == relayed + 1
            return report, await redis.xrange(stream)
        finally:
            await redis.aclose()
            db.close()

    report, entries = asyncio.run(scenario())
    assert report.published == 1
    [(_, fields)] = entries
    event = envelope.decode(fields[b"event"])
    assert (event.type, event.payload) == ("order.placed", payload)
    assert fields[b"event_id"] == str(event.event_id).encode()
    assert fields[b"request_id"] == b"req-1", "the request id travels beside the envelope"


def test_the_paused_gauge_follows_a_full_stream(outbox):
    import redis.asyncio as aioredis

    from capstone.common.db import Database
    from capstone.orders.outbox import add_event, build_relay

    database_url, redis_url, stream = outbox

    def add_three(session):
        for _ in range(3):
            payload = {"order_id": str(uuid.uuid4()), "user_id": "u", "items": []}
            add_event(session, "order.placed", payload)

    async def scenario():
        db = Database(database_url, pool_size=2, max_overflow=0)
        redis = aioredis.from_url(redis_url)
        try:
            await db.run(add_three)
            settings = _settings(database_url, redis_url, stream, stream_max_entries=2)
            relay = build_relay(db, redis, settings)
            await relay.relay_once()
            full = (_metric("outbox_publishing_paused"), _metric("outbox_stream_entries"))
            reply = await redis.xreadgroup(GROUP, "c1", {stream: ">"})
            await redis.xack(stream, GROUP, *[entry_id for entry_id, _ in reply[0][1]])
            for _ in range(3):
                await relay.relay_once()
            return full, _metric("outbox_publishing_paused"), await redis.xlen(stream)
        finally:
            await redis.aclose()
            db.close()

    full, paused_after, length = asyncio.run(scenario())
    assert full == (1, 0), "paused, measured on an empty stream before publishing two of three"
    assert (paused_after, length) == (0, 1), "acknowledged entries trimmed, the third published"
