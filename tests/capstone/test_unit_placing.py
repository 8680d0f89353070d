"""Placing an order, with fakes for inventory and the store: no service runs (lesson 11)."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from pydantic import ValidationError

from capstone.common.problems import Problem
from capstone.common.secrets import new_secret
from capstone.contracts.orders import OrderIn, OrderItem, OrderOut
from capstone.orders import idempotency
from capstone.orders.inventory_client import InsufficientStock, InventoryUnavailable
from capstone.orders.placing import OrderPlacer, order_id_for
from capstone.orders.settings import OrdersSettings


class FakeInventory:
    def __init__(self, stock: dict[int, int]) -> None:
        self.stock = dict(stock)
        self.reserved: dict[str, list[OrderItem]] = {}
        self.fail_with: Exception | None = None
        self.release_fails = False

    async def reserve(self, order_id: str, items: list[OrderItem]) -> bool:
        if self.fail_with is not None:
            raise self.fail_with
        if order_id in self.reserved:
            return True
        if any(self.stock.get(i.product_id, 0) < i.quantity for i in items):
            raise InsufficientStock("not enough")
        for item in items:
            self.stock[item.product_id] -= item.quantity
        self.reserved[order_id] = items
        return False

    async def release(self, order_id: str) -> bool:
        if self.release_fails:
            raise InventoryUnavailable("UNAVAILABLE: down")
        items = self.reserved.pop(order_id, [])
        for item in items:
            self.stock[item.product_id] += item.quantity
        return bool(items)


class FakeStore:
    """Keys and orders in dictionaries, with the claim rules of idempotency.py."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], idempotency.Existing] = {}
        self.orders: dict[str, OrderOut] = {}
        self.write_fails = False

    async def claim(self, user_id, key, fp, lock_seconds):
        found = self.keys.get((user_id, key))
        if found is None:
            self.keys[(user_id, key)] = idempotency.Existing(fp, idempotency.RUNNING, None, None)
        return found

    async def finish(self, user_id, key, status, body):
        fp = self.keys[(user_id, key)].fingerprint
        self.keys[(user_id, key)] = idempotency.Existing(fp, idempotency.DONE, status, body)

    async def release_key(self, user_id, key):
        if self.keys[(user_id, key)].status == idempotency.RUNNING:
            del self.keys[(user_id, key)]

    async def write_order(self, placed, key, body):
        if self.write_fails:
            raise RuntimeError("the database went away")
        self.orders[placed.id] = placed
        await self.finish(placed.user_id, key, 201, body)


def make(stock: dict[int, int]) -> tuple[OrderPlacer, FakeStore, FakeInventory, list[int]]:
    store, inventory, wakes = FakeStore(), FakeInventory(stock), []
    settings = OrdersSettings(
        idempotency_wait_seconds=0.05, idempotency_lock_seconds=30, internal_token=new_secret()
    )
    placer = OrderPlacer(store, inventory, lambda: wakes.append(1), settings)
    return placer, store, inventory, wakes


def order(*lines: tuple[int, int]) -> OrderIn:
    return OrderIn(items=[OrderItem(product_id=p, quantity=q) for p, q in lines])


def test_an_order_is_reserved_written_and_replayed_byte_for_byte():
    placer, _, inventory, wakes = make({1: 5})
    first = asyncio.run(placer.place("u1", "k1", order((1, 2))))
    assert first.status == 201
    assert orjson.loads(first.body)["id"] == order_id_for("u1", "k1")
    assert inventory.stock == {1: 3}
    assert wakes == [1], "the relay is woken once the order is written"
    again = asyncio.run(placer.place("u1", "k1", order((1, 2))))
    assert (again.status, again.body, again.replayed) == (201, first.body, True)
    assert inventory.stock == {1: 3}, "a replay reserves nothing more"


def test_the_same_key_with_another_body_is_422():
    placer, *_ = make({1: 5})
    asyncio.run(placer.place("u1", "k1", order((1, 1))))
    with pytest.raises(Problem) as refused:
        asyncio.run(placer.place("u1", "k1", order((1, 2))))
    assert refused.value.status == 422


def test_too_little_stock_is_a_stored_409():
    placer, store, inventory, _ = make({1: 1})
    answer = asyncio.run(placer.place("u1", "k1", order((1, 2))))
    assert answer.status == 409
    assert store.keys[("u1", "k1")].response_status == 409, "stored under the key"
    assert store.orders == {}
    assert inventory.stock == {1: 1}


def test_a_failed_write_releases_the_reservation_and_the_key():
    placer, store, inventory, wakes = make({1: 5})
    store.write_fails = True
    with pytest.raises(RuntimeError):
        asyncio.run(placer.place("u1", "k1", order((1, 2))))
    assert inventory.stock == {1: 5}, "the stock came back"
    assert inventory.reserved == {}
    assert ("u1", "k1") not in store.keys, "the key is free for a retry"
    assert wakes == []
    store.write_fails = False
    assert asyncio.run(placer.place("u1", "k1", order((1, 2)))).status == 201
    assert inventory.stock == {1: 3}


def test_when_the_release_fails_too_the_key_is_free_and_a_retry_reuses_the_reservation():
    placer, store, inventory, _ = make({1: 5})
    store.write_fails, inventory.release_fails = True, True
    with pytest.raises(RuntimeError):
        asyncio.run(placer.place("u1", "k1", order((1, 2))))
    assert ("u1", "k1") not in store.keys
    store.write_fails = False
    assert asyncio.run(placer.place("u1", "k1", order((1, 2)))).status == 201
    assert inventory.stock == {1: 3}, "reserved once in all"


def test_inventory_unavailable_is_503_and_frees_the_key():
    placer, store, inventory, _ = make({1: 5})
    inventory.fail_with = InventoryUnavailable("UNAVAILABLE: down")
    with pytest.raises(Problem) as unavailable:
        asyncio.run(placer.place("u1", "k1", order((1, 1))))
    assert unavailable.value.status == 503
    assert unavailable.value.headers["Retry-After"] == "1"
    assert store.keys == {}


def test_a_key_still_running_elsewhere_is_409_after_the_wait():
    placer, store, *_ = make({1: 5})
    fp = idempotency.fingerprint(order((1, 1)).model_dump(mode="json"))
    store.keys[("u1", "k1")] = idempotency.Existing(fp, idempotency.RUNNING, None, None)
    with pytest.raises(Problem) as busy:
        asyncio.run(placer.place("u1", "k1", order((1, 1))))
    assert busy.value.status == 409


def test_lines_of_one_product_merge_in_product_order():
    merged = order((2, 1), (1, 4), (2, 3))
    assert [(i.product_id, i.quantity) for i in merged.items] == [(1, 4), (2, 4)]
    with pytest.raises(ValidationError, match="more than 1000"):
        order((1, 600), (1, 600))
