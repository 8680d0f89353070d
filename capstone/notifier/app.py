"""The notifier (lesson 07): a consumer group on ``orders.events`` and a small HTTP API.

The consumers (``CONSUMERS`` members of the group, lesson 07's consumer each) run as tasks
beside the API: each handles its entries one after another, so several at once keep up with a
busy stream. On SIGTERM they are asked to stop: each finishes the entries it has read and leaves
within one read block (an entry read but not acknowledged, say after a SIGKILL, stays pending and
is processed at the next start). ``GET /notifications`` is
paged by keyset on the notification id (see capstone.contracts.paging).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import redis.asyncio as aioredis
from fastapi import FastAPI, Header
from sqlalchemy import select

from capstone.common.db import Database
from capstone.common.discovery import registration
from capstone.common.health import database_check, redis_check
from capstone.common.problems import invalid_cursor
from capstone.common.service import create_app, serve_app, stop_task
from capstone.contracts import headers
from capstone.contracts.notifications import NotificationOut, NotificationPage
from capstone.contracts.paging import (
    PAGE_DEFAULT,
    Cursor,
    InvalidCursor,
    Limit,
    decode_id_cursor,
    encode_cursor,
)
from capstone.notifier.consumer import build_consumer
from capstone.notifier.models import Notification
from capstone.notifier.settings import NotifierSettings

UserId = Annotated[str, Header(alias=headers.USER_ID, min_length=1, max_length=64)]


def _page(session: Any, user_id: str, limit: int, after: int) -> NotificationPage:
    rows = list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id, Notification.id > after)
            .order_by(Notification.id)
            .limit(limit + 1)  # one extra row says whether another page follows
        )
    )
    page = rows[:limit]
    return NotificationPage(
        items=[
            NotificationOut(
                id=n.id,
                event_id=n.event_id,
                order_id=n.order_id,
                user_id=n.user_id,
                message=n.message,
                created_at=n.created_at,
            )
            for n in page
        ],
        next_cursor=encode_cursor(page[-1].id) if len(rows) > limit else None,
    )


def consumer_names(settings: NotifierSettings) -> list[str]:
    """The names of this process's members of the group, the same at every start (a member
    that starts again first finishes the entries it had read)."""
    name = settings.consumer_name
    return [name] + [f"{name}:{n}" for n in range(2, settings.consumers + 1)]


def build_app(settings: NotifierSettings) -> FastAPI:
    db = Database(settings.database_url)
    redis = aioredis.from_url(settings.redis_url)
    consumers = {
        name: build_consumer(db, redis, settings.model_copy(update={"consumer_name": name}))
        for name in consumer_names(settings)
    }
    tasks: list[asyncio.Task[None]] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for name, consumer in consumers.items():
            tasks.append(asyncio.create_task(consumer.run(), name=f"consumer {name}"))
        # the gateway finds this instance in the registry while it runs (lesson 06)
        async with registration("notifier", redis, settings):
            yield
        for consumer in consumers.values():
            consumer.stop()  # each finishes the entries in hand and leaves within one read block
        deadline = settings.block_ms / 1000 + 2.0
        await asyncio.gather(*(stop_task(task, deadline, cancel=False) for task in tasks))
        await redis.aclose()
        db.close()

    async def consumer_running() -> None:
        if not tasks or any(task.done() for task in tasks):
            raise RuntimeError("a stream consumer is not running")

    app = create_app(
        "notifier",
        lifespan=lifespan,
        internal_token=settings.internal_token.get_secret_value(),
        checks={
            "database": database_check(db),
            "redis": redis_check(redis),
            "consumer": consumer_running,
        },
    )

    @app.get("/notifications")
    async def my_notifications(
        user_id: UserId, limit: Limit = PAGE_DEFAULT, cursor: Cursor = None
    ) -> NotificationPage:
        try:
            after = decode_id_cursor(cursor)
        except InvalidCursor as error:
            raise invalid_cursor() from error
        return await db.run(lambda session: _page(session, user_id, limit, after))

    return app


def serve(settings: NotifierSettings) -> None:
    serve_app(build_app(settings), settings)
