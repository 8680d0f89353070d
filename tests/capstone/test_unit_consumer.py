"""The notifier's consumer with a fake store and a fake Redis: duplicates, poison, trimmed."""

from __future__ import annotations

import asyncio
import uuid

from capstone.common.events import Event
from capstone.common.secrets import new_secret
from capstone.contracts.events import ORDER_PLACED, OrderPlaced
from capstone.notifier.consumer import Consumer
from capstone.notifier.settings import NotifierSettings


class FakeStore:
    def __init__(self) -> None:
        self.by_order: dict[str, str] = {}
        self.transactions = 0

    async def add(self, event_id: str, placed: OrderPlaced) -> bool:
        self.transactions += 1
        return self._add(event_id, placed)

    async def add_many(self, notes: list[tuple[str, OrderPlaced]]) -> list[bool]:
        self.transactions += 1
        return [self._add(event_id, placed) for event_id, placed in notes]

    def _add(self, event_id: str, placed: OrderPlaced) -> bool:
        if placed.order_id in self.by_order:
            return False
        self.by_order[placed.order_id] = event_id
        return True


class FakeRedis:
    def __init__(self) -> None:
        self.acked: list[str] = []
        self.calls = 0

    async def xack(self, stream: str, group: str, *entry_ids: str) -> int:
        self.calls += 1
        self.acked += entry_ids
        return len(entry_ids)


def consumer() -> tuple[Consumer, FakeStore, FakeRedis]:
    store, redis = FakeStore(), FakeRedis()
    return (
        Consumer(store, redis, NotifierSettings(events_stream="s", internal_token=new_secret())),
        store,
        redis,
    )


def placed_event() -> Event:
    payload = {"order_id": str(uuid.uuid4()), "user_id": "u1", "items": []}
    return Event(type=ORDER_PLACED, payload=payload)


def test_an_event_delivered_twice_stores_one_notification_and_acks_both():
    worker, store, redis = consumer()
    event = placed_event()
    asyncio.run(worker.handle("1-0", event.to_fields()))
    asyncio.run(worker.handle("2-0", event.to_fields()))
    assert list(store.by_order) == [event.payload["order_id"]]
    assert redis.acked == ["1-0", "2-0"], "a duplicate is acknowledged all the same"


def test_the_same_order_in_a_new_event_is_a_duplicate_too():
    worker, store, _ = consumer()
    first = placed_event()
    second = Event(type=ORDER_PLACED, payload=first.payload)  # a new event id
    assert asyncio.run(worker._process("1-0", first.to_fields())) == "stored"
    assert asyncio.run(worker._process("2-0", second.to_fields())) == "duplicate"
    assert store.by_order == {first.payload["order_id"]: str(first.event_id)}


def test_poison_trimmed_and_foreign_entries_are_acknowledged_and_never_stored():
    worker, store, redis = consumer()
    poison = {"type": ORDER_PLACED, "event": '{"type": "order.placed", "payload": {}}'}
    other = Event(type="order.shipped", payload={}).to_fields()
    outcomes = [
        asyncio.run(worker._process("1-0", poison)),
        asyncio.run(worker._process("2-0", None)),  # trimmed while pending: XAUTOCLAIM's None
        asyncio.run(worker._process("3-0", other)),
        asyncio.run(worker._process("4-0", {"no": "event"})),
    ]
    assert outcomes == ["invalid", "ignored", "ignored", "invalid"]
    assert store.by_order == {}
    for entry in ("1-0", "2-0", "3-0"):
        asyncio.run(worker.handle(entry, None))
    assert redis.acked == ["1-0", "2-0", "3-0"]


def test_one_read_is_stored_in_one_transaction_and_acknowledged_at_once():
    """Under load a read returns many entries: one transaction and one XACK for all of them,
    with the same outcomes as one by one (a duplicate inside the read is still one)."""
    worker, store, redis = consumer()
    events = [placed_event() for _ in range(5)]
    entries = [(f"{n}-0", e.to_fields()) for n, e in enumerate(events)]
    entries += [("5-0", events[0].to_fields()), ("6-0", None), ("7-0", {"no": "event"})]
    asyncio.run(worker.handle_batch(entries))
    assert store.transactions == 1, "one transaction for the whole read"
    assert redis.calls == 1, "one XACK for the whole read"
    assert redis.acked == [entry_id for entry_id, _ in entries], "every entry acknowledged"
    assert set(store.by_order) == {e.payload["order_id"] for e in events}, "one per order"
