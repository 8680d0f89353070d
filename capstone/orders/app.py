"""The orders service (lessons 03, 04, 06, 07, 12). Only the gateway calls it: the caller is
named by the ``X-User-ID`` header the gateway sets after it has checked the token.

A user sees only their own orders: another user's order is 404, exactly like a missing one, so
the answer does not reveal that it exists. ``GET /orders`` is paged by keyset on
(created_at, id), oldest first (see capstone.contracts.paging).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

import redis.asyncio as aioredis
from fastapi import FastAPI, Header, Response
from sqlalchemy import select, tuple_

from capstone.common.db import Database
from capstone.common.discovery import registration
from capstone.common.health import database_check, redis_check
from capstone.common.problems import PROBLEM_JSON, Problem, invalid_cursor
from capstone.common.service import create_app, serve_app, stop_task
from capstone.contracts import headers
from capstone.contracts.orders import OrderIn, OrderItem, OrderOut, OrderPage, StockIn, StockOut
from capstone.contracts.paging import (
    PAGE_DEFAULT,
    Cursor,
    InvalidCursor,
    Limit,
    decode_cursor,
    encode_cursor,
)
from capstone.orders.inventory_client import InventoryClient, InventoryUnavailable
from capstone.orders.models import Order
from capstone.orders.outbox import build_relay
from capstone.orders.placing import OrderPlacer, SqlOrderStore, unavailable
from capstone.orders.settings import OrdersSettings

UserId = Annotated[str, Header(alias=headers.USER_ID, min_length=1, max_length=64)]
IdempotencyKey = Annotated[str, Header(alias=headers.IDEMPOTENCY_KEY, min_length=1, max_length=200)]


def _out(order: Order) -> OrderOut:
    return OrderOut(
        id=order.id,
        user_id=order.user_id,
        status=order.status,
        items=[OrderItem(product_id=x.product_id, quantity=x.quantity) for x in order.lines],
        created_at=order.created_at,
    )


def _position(cursor: str | None) -> tuple[datetime, str] | None:
    """The (created_at, id) after which the page starts; a 422 for a cursor not made here."""
    if cursor is None:
        return None
    try:
        created_at, order_id = decode_cursor(cursor)
        return datetime.fromisoformat(created_at), str(order_id)
    except (InvalidCursor, TypeError, ValueError) as error:
        raise invalid_cursor() from error


def _page_of_orders(session: Any, user_id: str, limit: int, cursor: str | None) -> OrderPage:
    query = select(Order).where(Order.user_id == user_id)
    if (after := _position(cursor)) is not None:
        query = query.where(tuple_(Order.created_at, Order.id) > after)
    rows = list(session.scalars(query.order_by(Order.created_at, Order.id).limit(limit + 1)))
    more = len(rows) > limit  # one extra row says whether another page follows
    page = rows[:limit]
    last = page[-1] if more else None
    next_cursor = encode_cursor(last.created_at.isoformat(), last.id) if last else None
    return OrderPage(items=[_out(order) for order in page], next_cursor=next_cursor)


def build_app(settings: OrdersSettings) -> FastAPI:
    # 16 orders at once hold up to two connections each for a moment, plus the relay's: kept
    # open, not reopened for each transaction (an overflow connection is closed after use)
    db = Database(settings.database_url, pool_size=20, max_overflow=10)
    redis = aioredis.from_url(settings.redis_url)
    inventory = InventoryClient(settings.inventory_target, settings.reserve_deadline_seconds)
    relay = build_relay(db, redis, settings)
    placer = OrderPlacer(SqlOrderStore(db), inventory, relay.wake, settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
        # the gateway finds this instance in the registry while it runs (lesson 06)
        async with registration("orders", redis, settings):
            yield
        relay.stop()  # uvicorn has finished the in-flight requests: publish their events, leave
        await stop_task(relay_task, 3.0, cancel=False)
        await inventory.close()
        await redis.aclose()
        db.close()

    app = create_app(
        "orders",
        lifespan=lifespan,
        internal_token=settings.internal_token.get_secret_value(),
        checks={
            "database": database_check(db),
            "redis": redis_check(redis),
            "inventory": inventory.check,
        },
    )

    @app.post("/orders", status_code=201, response_model=OrderOut)
    async def place_order(order: OrderIn, user_id: UserId, key: IdempotencyKey) -> Response:
        answer = await placer.place(user_id, key, order)
        media = PROBLEM_JSON if answer.status >= 400 else "application/json"
        replayed = {headers.IDEMPOTENT_REPLAYED: "true"} if answer.replayed else {}
        return Response(answer.body, status_code=answer.status, media_type=media, headers=replayed)

    @app.get("/orders")
    async def list_orders(
        user_id: UserId, limit: Limit = PAGE_DEFAULT, cursor: Cursor = None
    ) -> OrderPage:
        _position(cursor)  # a bad cursor is a 422 before any database work
        return await db.run(lambda session: _page_of_orders(session, user_id, limit, cursor))

    @app.get("/orders/{order_id}")
    async def get_order(order_id: str, user_id: UserId) -> OrderOut:
        def one(session: Any) -> OrderOut | None:
            order = session.get(Order, order_id)
            return _out(order) if order is not None and order.user_id == user_id else None

        found = await db.run(one)
        if found is None:  # someone else's order is "not found" too: no existence leak
            raise Problem(404, "Not Found", f"no order {order_id}")
        return found

    @app.put("/stock/{product_id}")
    async def set_stock(product_id: int, stock: StockIn) -> StockOut:
        try:
            quantity = await inventory.set_stock(product_id, stock.quantity)
        except InventoryUnavailable as error:
            raise unavailable(error) from error
        return StockOut(product_id=product_id, quantity=quantity)

    @app.get("/stock/{product_id}")
    async def get_stock(product_id: int) -> StockOut:
        try:
            quantity = await inventory.get_stock(product_id)
        except InventoryUnavailable as error:
            raise unavailable(error) from error
        return StockOut(product_id=product_id, quantity=quantity)

    return app


def serve(settings: OrdersSettings) -> None:
    serve_app(build_app(settings), settings)
