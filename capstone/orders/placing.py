"""Placing an order (lessons 04, 06, 07 and 12): claim the key, reserve, write order + outbox.

1. claim (user, Idempotency-Key) — or answer from the existing claim (see idempotency.py);
2. ask inventory to ``Reserve`` over gRPC, with a deadline; the order id is derived from
   (user, key), so a retried request reserves the same order and never twice;
3. in ONE transaction: the order, its lines, the outbox row, and the stored response.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from prometheus_client import Counter
from sqlalchemy.orm import Session

from capstone.common.db import Database
from capstone.common.events import ORDER_PLACED, Event
from capstone.common.logging import current_request_id, get_logger
from capstone.common.problems import Problem, problem_body
from capstone.orders import idempotency
from capstone.orders.inventory_client import (
    InsufficientStock,
    InvalidReservation,
    InventoryClient,
    InventoryUnavailable,
)
from capstone.orders.models import Order, OrderIn, OrderLine, OrderOut
from capstone.orders.outbox import OutboxRelay, add_event
from capstone.orders.settings import OrdersSettings

ORDER_NAMESPACE = uuid.UUID("6f1d2c1e-8a59-4b8e-9d33-2c7a3f0e5b10")
PLACED = Counter("orders_placed_total", "orders accepted")
REPLAYED = Counter("idempotent_replays_total", "requests answered from a stored response")
log = get_logger("capstone.orders")


@dataclass(frozen=True)
class Answer:
    status: int
    body: str  # JSON text, exactly as first sent
    replayed: bool = False


class OrderPlacer:
    def __init__(
        self,
        db: Database,
        inventory: InventoryClient,
        relay: OutboxRelay,
        settings: OrdersSettings,
    ) -> None:
        self.db = db
        self.inventory = inventory
        self.relay = relay
        self.settings = settings

    async def place(self, user_id: str, key: str, order: OrderIn) -> Answer:
        fp = idempotency.fingerprint(order.model_dump(mode="json"))
        existing = await self._claim_or_wait(user_id, key, fp)
        if existing is not None:
            return existing
        order_id = str(uuid.uuid5(ORDER_NAMESPACE, f"{user_id}:{key}"))
        try:
            await self.inventory.reserve(order_id, order.items)
        except InsufficientStock as short:
            body = dumps(problem_body(409, "Insufficient stock", str(short)))
            await self.db.run(lambda s: idempotency.finish(s, user_id, key, 409, body))
            return Answer(409, body)
        except InvalidReservation as bad:
            body = dumps(problem_body(422, "Invalid order", str(bad)))
            await self.db.run(lambda s: idempotency.finish(s, user_id, key, 422, body))
            return Answer(422, body)
        except BaseException as error:  # unavailable, timed out, cancelled: the key is free again
            await asyncio.shield(self.db.run(lambda s: idempotency.release(s, user_id, key)))
            if isinstance(error, InventoryUnavailable):
                raise Problem(
                    503, "Inventory unavailable", str(error), headers={"Retry-After": "1"}
                ) from error
            raise
        placed = OrderOut(
            id=order_id,
            user_id=user_id,
            status="placed",
            items=order.items,
            created_at=datetime.now(UTC),
        )
        body = placed.model_dump_json()
        await self.db.run(lambda s: _write_order(s, placed, key, body))
        PLACED.inc()
        log.info("order placed", order_id=order_id, user_id=user_id)
        self.relay.wake()
        return Answer(201, body)

    async def _claim_or_wait(self, user_id: str, key: str, fp: str) -> Answer | None:
        """None once this request owns the key; else the answer the client gets now."""
        give_up = time.monotonic() + self.settings.idempotency_wait_seconds
        pause = 0.02
        lock = self.settings.idempotency_lock_seconds
        while True:
            found = await self.db.run(lambda s: idempotency.claim(s, user_id, key, fp, lock))
            if found is None:
                return None
            if found.fingerprint != fp:
                raise Problem(
                    422,
                    "Idempotency key reused",
                    "this Idempotency-Key was used with a different request body",
                )
            if found.status == idempotency.DONE:
                REPLAYED.inc()
                assert found.response_status is not None
                assert found.response_body is not None
                return Answer(found.response_status, found.response_body, replayed=True)
            if time.monotonic() >= give_up:
                raise Problem(
                    409,
                    "Request in progress",
                    "a request with this Idempotency-Key is still being processed",
                    headers={"Retry-After": "1"},
                )
            await asyncio.sleep(pause)  # wait for the first request, polling with a deadline
            pause = min(pause * 2, 0.2)


def dumps(body: Any) -> str:
    """JSON text of a response body, stored under its key and replayed byte for byte."""
    return orjson.dumps(body).decode()


def _write_order(session: Session, placed: OrderOut, key: str, body: str) -> None:
    """The order, its lines, its event and the stored response: one transaction."""
    session.add(
        Order(
            id=placed.id,
            user_id=placed.user_id,
            status=placed.status,
            created_at=placed.created_at,
            lines=[OrderLine(product_id=i.product_id, quantity=i.quantity) for i in placed.items],
        )
    )
    add_event(
        session,
        Event(
            type=ORDER_PLACED,
            request_id=current_request_id(),
            payload={
                "order_id": placed.id,
                "user_id": placed.user_id,
                "items": [i.model_dump() for i in placed.items],
            },
        ),
    )
    idempotency.finish(session, placed.user_id, key, 201, body)
