"""What orders promise about the data: one line per product, no stock leaked when an order
cannot be written, paged lists, and no notification lost when Redis loses the stream."""

from __future__ import annotations

import signal
import uuid
from datetime import UTC, datetime

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PROBLEM = "application/problem+json"


def _user_id(shop, headers):
    with shop.client() as http:
        return http.get("/users/me", headers=headers).json()["id"]


def _stock(shop, pid):
    with shop.client() as http:
        return http.get(f"/products/{pid}/stock").json()["quantity"]


def test_the_same_product_twice_is_one_line_of_their_sum(shop):
    user = shop.user()
    pid = shop.product(stock=5)
    twice = {"items": [{"product_id": pid, "quantity": 1}, {"product_id": pid, "quantity": 2}]}
    with shop.client() as http:
        placed = http.post(
            "/orders", json=twice, headers={**user, "Idempotency-Key": uuid.uuid4().hex}
        )
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert order["items"] == [{"product_id": pid, "quantity": 3}], "merged into one line"
        assert http.get(f"/orders/{order['id']}", headers=user).json() == order
        too_many = {"items": [{"product_id": pid, "quantity": 600}] * 2}
        refused = http.post(
            "/orders", json=too_many, headers={**user, "Idempotency-Key": uuid.uuid4().hex}
        )
        assert refused.status_code == 422, "the merged line obeys the per-line maximum"
        assert refused.headers["content-type"] == PROBLEM
    assert _stock(shop, pid) == 2, "reserved once, for the sum"


def test_a_failure_after_the_reservation_gives_the_stock_and_the_key_back(shop):
    """A row already holding the order's id makes the order's write fail after Reserve."""
    import psycopg

    from capstone.orders.placing import ORDER_NAMESPACE

    user = shop.user()
    pid = shop.product(stock=5)
    key = uuid.uuid4().hex
    order_id = str(uuid.uuid5(ORDER_NAMESPACE, f"{_user_id(shop, user)}:{key}"))
    body = {"items": [{"product_id": pid, "quantity": 2}]}
    with psycopg.connect(shop.database_url("orders"), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO orders (id, user_id, status, created_at) VALUES (%s, %s, %s, %s)",
            (order_id, "someone-else", "placed", datetime.now(UTC)),
        )
        with shop.client() as http:
            failed = http.post("/orders", json=body, headers={**user, "Idempotency-Key": key})
        assert failed.status_code == 500, failed.text
        assert failed.headers["content-type"] == PROBLEM
        assert _stock(shop, pid) == 5, "the reservation was given back: no stock leaked"
        running = conn.execute(
            "SELECT count(*) FROM idempotency_keys WHERE key = %s", (key,)
        ).fetchone()
        assert running == (0,), "the key is free again, not left 'running'"
        conn.execute("DELETE FROM orders WHERE id = %s", (order_id,))
    with shop.client() as http:
        retried = http.post("/orders", json=body, headers={**user, "Idempotency-Key": key})
    assert retried.status_code == 201, retried.text
    assert retried.json()["id"] == order_id
    assert _stock(shop, pid) == 3, "the retry reserved once"


def _walk(shop, path, headers, limit):
    """Every page of a list, with the page sizes seen."""
    items, sizes, params = [], [], {"limit": limit}
    with shop.client() as http:
        while True:
            reply = http.get(path, headers=headers, params=params)
            assert reply.status_code == 200, reply.text
            page = reply.json()
            items += page["items"]
            sizes.append(len(page["items"]))
            if page["next_cursor"] is None:
                return items, sizes
            params["cursor"] = page["next_cursor"]


def test_orders_and_notifications_are_paged_with_a_cursor(shop, poll):
    user = shop.user()
    pid = shop.product(stock=10)
    placed = []
    with shop.client() as http:
        for _ in range(5):
            reply = http.post(
                "/orders",
                json={"items": [{"product_id": pid, "quantity": 1}]},
                headers={**user, "Idempotency-Key": uuid.uuid4().hex},
            )
            assert reply.status_code == 201, reply.text
            placed.append(reply.json()["id"])
    orders, sizes = _walk(shop, "/orders", user, limit=2)
    assert sizes == [2, 2, 1]
    assert [o["id"] for o in orders] == placed, "every order once, oldest first"
    poll(lambda: len(shop.notifications(user)) == 5, what="five notifications")
    notes, sizes = _walk(shop, "/notifications", user, limit=2)
    assert sizes == [2, 2, 1]
    assert sorted(n["order_id"] for n in notes) == sorted(placed)
    assert len({n["id"] for n in notes}) == 5
    with shop.client() as http:
        for path in ("/orders", "/notifications"):
            first = http.get(path, headers=user).json()
            assert len(first["items"]) == 5, "without a limit, one page holds all five"
            assert first["next_cursor"] is None
            for bad in ({"limit": 101}, {"limit": 0}, {"cursor": "not-a-cursor"}):
                reply = http.get(path, headers=user, params=bad)
                assert reply.status_code == 422, f"{path} {bad}: {reply.text}"
                assert reply.headers["content-type"] == PROBLEM


def test_no_notification_is_lost_when_redis_loses_the_stream(shop, poll):
    """The notifier is down; the relay publishes; Redis loses the stream (a restart without
    persistence: the stream and its group are gone). Every order is still notified."""
    import psycopg

    user = shop.user()
    pid = shop.product(stock=10)
    stream = shop.system.config.events_stream
    assert shop.system.kill("notifier", signal.SIGTERM) == 0
    try:
        with shop.client() as http:
            ids = []
            for _ in range(3):
                reply = http.post(
                    "/orders",
                    json={"items": [{"product_id": pid, "quantity": 1}]},
                    headers={**user, "Idempotency-Key": uuid.uuid4().hex},
                )
                assert reply.status_code == 201, reply.text
                ids.append(reply.json()["id"])

        def published():
            with psycopg.connect(shop.database_url("orders")) as conn:
                (count,) = conn.execute(
                    "SELECT count(*) FROM outbox WHERE stream_id IS NOT NULL"
                    " AND convert_from(body, 'UTF8')::jsonb -> 'payload' ->> 'order_id'"
                    " = ANY(%s)",
                    (ids,),
                ).fetchone()
            return count == len(ids)

        poll(published, what="the relay to publish the three events")
        with shop.redis() as redis:
            assert redis.delete(stream) == 1, "the stream is lost, unread"
    finally:
        shop.restart("notifier")

    def all_notified():
        return {n["order_id"] for n in shop.notifications(user)} >= set(ids)

    poll(all_notified, timeout=30, what="a notification for every order")
    notes = [n for n in shop.notifications(user) if n["order_id"] in ids]
    assert len(notes) == 3, "one notification per order"


def test_release_gives_a_reservation_back_once_however_often_it_is_called(shop):
    """Inventory's Release, called straight over gRPC: two at once give the stock back once."""
    import asyncio

    import grpc

    from capstone.contracts import inventory_pb2 as pb
    from capstone.contracts import inventory_pb2_grpc as pb_grpc

    pid = shop.product(stock=5)
    order_id = str(uuid.uuid4())

    async def scenario():
        async with grpc.aio.insecure_channel(shop.system.config.inventory_target) as channel:
            stub = pb_grpc.InventoryStub(channel)
            line = pb.Line(product_id=pid, quantity=2)
            await stub.Reserve(pb.ReserveRequest(order_id=order_id, lines=[line]), timeout=5)
            replies = await asyncio.gather(
                *(stub.Release(pb.ReleaseRequest(order_id=order_id), timeout=5) for _ in range(2))
            )
            later = await stub.Release(pb.ReleaseRequest(order_id=order_id), timeout=5)
            return sorted(r.released for r in replies), later.released

    assert asyncio.run(scenario()) == ([False, True], False), "released once, then a no-op"
    assert _stock(shop, pid) == 5, "the two units came back, once"
