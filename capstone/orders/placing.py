"""Placing an order (lessons 04, 06, 07 and 12): claim the key, reserve, write order + outbox.

1. claim (user, Idempotency-Key) — or answer from the existing claim (see idempotency.py);
2. ask inventory to ``Reserve`` over gRPC, with a deadline; the order id is derived from
   (user, key), so a retried request reserves the same order and never twice;
3. in ONE transaction: the order, its lines, the outbox row, and the stored response.

Whatever fails after step 2 undoes it: the reservation is released (``Release``) and the key is
given back, so stock never leaks and the client may retry with the same key. Should the release
itself fail (inventory away), the reservation stays under the order id, and a retry with the
same key reuses it (``Reserve`` is idempotent by order id) instead of taking the stock again.

:class:`OrderPlacer` talks to its collaborators through small protocols (an inventory, a store
of keys and orders, a relay to wake), so its rules are unit-tested with fakes.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from prometheus_client import Counter
from sqlalchemy import Connection, insert

from capstone.common.db import Database
from capstone.common.logging import get_logger
from capstone.common.problems import Problem, problem_body
from capstone.contracts.events import ORDER_PLACED
from capstone.contracts.orders import OrderIn, OrderItem, OrderOut
from capstone.orders import idempotency
from capstone.orders.inventory_client import (
    InsufficientStock,
    InvalidReservation,
    InventoryUnavailable,
)
from capstone.orders.models import order_lines_table, orders_table
from capstone.orders.outbox import add_event
from capstone.orders.settings import OrdersSettings

ORDER_NAMESPACE = uuid.UUID("6f1d2c1e-8a59-4b8e-9d33-2c7a3f0e5b10")
PLACED = Counter("orders_placed_total", "orders accepted")
REPLAYED = Counter("idempotent_replays_total", "requests answered from a stored response")
RELEASED = Counter("reservations_released_total", "reservations given back after a failure")
log = get_logger("capstone.orders")


def order_id_for(user_id: str, key: str) -> str:
    """The order's id, derived from (user, key): a retry of the request names the same order."""
    return str(uuid.uuid5(ORDER_NAMESPACE, f"{user_id}:{key}"))


def unavailable(error: InventoryUnavailable) -> Problem:
    """The 503 for a call inventory could not answer, with the resilient client's jittered
    ``Retry-After``."""
    return Problem(
        503,
        "Inventory unavailable",
        str(error),
        headers={"Retry-After": str(error.retry_after)},
    )


@dataclass(frozen=True)
class Answer:
    status: int
    body: str  # JSON text, exactly as first sent
    replayed: bool = False


class Inventory(Protocol):
    async def reserve(self, order_id: str, items: list[OrderItem]) -> bool: ...
    async def release(self, order_id: str) -> bool: ...


class OrderStore(Protocol):
    """Idempotency keys and orders: each method is one transaction."""

    async def claim(
        self, user_id: str, key: str, fp: str, lock_seconds: float
    ) -> idempotency.Existing | None: ...
    async def finish(self, user_id: str, key: str, status: int, body: str) -> None: ...
    async def release_key(self, user_id: str, key: str) -> None: ...
    async def write_order(self, placed: OrderOut, key: str, body: str) -> None: ...


class SqlOrderStore:
    """:class:`OrderStore` in the orders database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(
        self, user_id: str, key: str, fp: str, lock_seconds: float
    ) -> idempotency.Existing | None:
        return await self.db.run_alone(
            lambda c: idempotency.claim(c, user_id, key, fp, lock_seconds)
        )

    async def finish(self, user_id: str, key: str, status: int, body: str) -> None:
        await self.db.run_alone(lambda c: idempotency.finish(c, user_id, key, status, body))

    async def release_key(self, user_id: str, key: str) -> None:
        await self.db.run_alone(lambda c: idempotency.release(c, user_id, key))

    async def write_order(self, placed: OrderOut, key: str, body: str) -> None:
        await self.db.run_core(lambda c: _write_order(c, placed, key, body))


class OrderPlacer:
    def __init__(
        self,
        store: OrderStore,
        inventory: Inventory,
        wake_relay: Callable[[], None],
        settings: OrdersSettings,
    ) -> None:
        self.store = store
        self.inventory = inventory
        self.wake_relay = wake_relay
        self.settings = settings

    async def place(self, user_id: str, key: str, order: OrderIn) -> Answer:
        fp = idempotency.fingerprint(order.model_dump(mode="json"))
        existing = await self._claim_or_wait(user_id, key, fp)
        if existing is not None:
            return existing
        order_id = order_id_for(user_id, key)
        try:
            await self.inventory.reserve(order_id, order.items)
        except InsufficientStock as short:
            return await self._refuse(user_id, key, 409, "Insufficient stock", str(short))
        except InvalidReservation as bad:
            return await self._refuse(user_id, key, 422, "Invalid order", str(bad))
        except BaseException as error:  # unavailable, timed out, cancelled: the key is free again
            await asyncio.shield(self.store.release_key(user_id, key))
            if isinstance(error, InventoryUnavailable):
                raise unavailable(error) from error
            raise
        placed = OrderOut(
            id=order_id,
            user_id=user_id,
            status="placed",
            items=order.items,
            created_at=datetime.now(UTC),
        )
        body = placed.model_dump_json()
        try:
            await self.store.write_order(placed, key, body)
        except BaseException:  # the stock is reserved for an order that does not exist: undo
            await asyncio.shield(self._undo_reservation(order_id, user_id, key))
            raise
        PLACED.inc()
        log.info("order placed", order_id=order_id, user_id=user_id)
        self.wake_relay()
        return Answer(201, body)

    async def _refuse(self, user_id: str, key: str, status: int, title: str, why: str) -> Answer:
        """A final answer (nothing was reserved), stored under the key like any other."""
        body = dumps(problem_body(status, title, why))
        await self.store.finish(user_id, key, status, body)
        return Answer(status, body)

    async def _undo_reservation(self, order_id: str, user_id: str, key: str) -> None:
        """Gives the stock back, then the key: the client may retry, and nothing leaked."""
        try:
            if await self.inventory.release(order_id):
                RELEASED.inc()
            log.warning("order not written: reservation released", order_id=order_id)
        except Exception as error:  # kept under the order id: a retry with the key reuses it
            log.error("order not written, reservation kept", order_id=order_id, error=repr(error))
        try:
            await self.store.release_key(user_id, key)
        except Exception as error:  # the claim expires after IDEMPOTENCY_LOCK_SECONDS anyway
            log.error("key not released", order_id=order_id, error=repr(error))

    async def _claim_or_wait(self, user_id: str, key: str, fp: str) -> Answer | None:
        """None once this request owns the key; else the answer the client gets now."""
        give_up = time.monotonic() + self.settings.idempotency_wait_seconds
        pause = 0.02
        lock = self.settings.idempotency_lock_seconds
        while True:
            found = await self.store.claim(user_id, key, fp, lock)
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


# built once: executed with each order's values (see idempotency.py for why)
INSERT_ORDER = insert(orders_table)
INSERT_LINES = insert(order_lines_table)


def _write_order(connection: Connection, placed: OrderOut, key: str, body: str) -> None:
    """The order, its lines, its event and the stored response: one transaction.

    Core INSERT statements on a connection rather than ``session.add``: the rows are new and
    nothing reads them back, so the ORM's unit of work (identity map, flush ordering) would be
    pure cost here.
    """
    connection.execute(
        INSERT_ORDER,
        {
            "id": placed.id,
            "user_id": placed.user_id,
            "status": placed.status,
            "created_at": placed.created_at,
        },
    )
    connection.execute(
        INSERT_LINES,
        [{"order_id": placed.id, **item.model_dump()} for item in placed.items],
    )
    add_event(
        connection,
        ORDER_PLACED,
        {
            "order_id": placed.id,
            "user_id": placed.user_id,
            "items": [i.model_dump() for i in placed.items],
        },
    )
    idempotency.finish(connection, placed.user_id, key, 201, body)
