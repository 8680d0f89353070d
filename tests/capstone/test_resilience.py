"""Idempotency under a race, duplicate stream delivery, and a notifier killed mid-stream."""

from __future__ import annotations

import asyncio
import signal
import uuid

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_fifty_identical_requests_make_one_order(shop):
    import httpx

    user = shop.user()
    pid = shop.product(stock=100)
    body = {"items": [{"product_id": pid, "quantity": 3}]}
    headers = {**user, "Idempotency-Key": uuid.uuid4().hex}

    async def burst():
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=shop.api, timeout=30, limits=limits) as http:
            return await asyncio.gather(
                *(http.post("/orders", json=body, headers=headers) for _ in range(50))
            )

    replies = asyncio.run(burst())
    statuses = {r.status_code for r in replies}
    assert statuses == {201}, f"every one of the 50 gets the same status, got {statuses}"
    assert len({r.content for r in replies}) == 1, "every one gets the same body, byte for byte"
    with shop.client() as http:
        orders = http.get("/orders", headers=user).json()["items"]
        assert len(orders) == 1, "one order, however many times it was sent"
        assert http.get(f"/products/{pid}/stock").json()["quantity"] == 97, "reserved once"


def test_key_still_running_is_409(shop):
    """A first request that holds the key past the wait gets its duplicates a 409."""
    from datetime import UTC, datetime, timedelta

    import psycopg

    from capstone.orders.idempotency import fingerprint

    user = shop.user()
    with shop.client() as http:
        user_id = http.get("/users/me", headers=user).json()["id"]
    body = {"items": [{"product_id": 1, "quantity": 1}]}
    key = uuid.uuid4().hex
    with psycopg.connect(shop.database_url("orders"), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO idempotency_keys (user_id, key, fingerprint, status, locked_until)"
            " VALUES (%s, %s, %s, 'running', %s)",
            (user_id, key, fingerprint(body), datetime.now(UTC) + timedelta(minutes=5)),
        )
    with shop.client() as http:
        busy = http.post("/orders", json=body, headers={**user, "Idempotency-Key": key})
    assert busy.status_code == 409, "a key whose first request is still running: 409"
    assert busy.json()["title"] == "Request in progress"
    assert busy.headers["retry-after"] == "1"


def test_a_key_left_running_by_a_crashed_request_is_taken_over(shop):
    """A claim whose lock ran out (its request crashed) is taken over by the same body, and
    still refused to another body."""
    from datetime import UTC, datetime, timedelta

    import psycopg

    from capstone.orders.idempotency import fingerprint

    user = shop.user()
    body = {"items": [{"product_id": shop.product(stock=1), "quantity": 1}]}
    key = uuid.uuid4().hex
    with psycopg.connect(shop.database_url("orders"), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO idempotency_keys (user_id, key, fingerprint, status, locked_until)"
            " VALUES (%s, %s, %s, 'running', %s)",
            (shop.me(user), key, fingerprint(body), datetime.now(UTC) - timedelta(minutes=1)),
        )
    headers = {**user, "Idempotency-Key": key}
    other = {"items": [{**body["items"][0], "quantity": 2}]}
    with shop.client() as http:
        refused = http.post("/orders", json=other, headers=headers)
        assert refused.status_code == 422, "a stale claim is still the other body's key"
        taken = http.post("/orders", json=body, headers=headers)
        assert taken.status_code == 201, taken.text


def test_rate_limit_is_429_with_retry_after(shop):
    """The session runs the gateway with RATE_LIMIT_PER_MINUTE=60 (see conftest)."""
    email = f"eve-{uuid.uuid4().hex[:8]}@example.com"
    shop.user(email)  # one login counted already
    with shop.client() as http:
        statuses = []
        for _ in range(70):
            reply = http.post("/auth/token", data={"username": email, "password": "wrong-pass"})
            statuses.append(reply.status_code)
            if reply.status_code == 429:
                break
    assert statuses[-1] == 429, "logins beyond the per-minute limit are refused"
    assert set(statuses[:-1]) == {401}
    assert 0 < int(reply.headers["retry-after"]) <= 60
    assert reply.headers["content-type"] == "application/problem+json"


def _delivered(redis, stream, entry_id):
    """True once the notifier's group has read past ``entry_id`` and acknowledged everything."""
    groups = [g for g in redis.xinfo_groups(stream) if g["name"] == "notifier"]
    if not groups:
        return False
    last = tuple(int(x) for x in groups[0]["last-delivered-id"].split("-"))
    return last >= tuple(int(x) for x in entry_id.split("-")) and groups[0]["pending"] == 0


def test_duplicate_delivery_writes_one_notification(shop, poll):
    from capstone.contracts.events import ORDER_PLACED
    from capstone.pieces import piece

    envelope = piece("events")
    user = shop.user()
    redis = shop.redis()
    stream = shop.system.config.events_stream
    event = envelope.new_event(
        ORDER_PLACED,
        {
            "order_id": str(uuid.uuid4()),
            "user_id": shop.me(user),
            "items": [{"product_id": 1, "quantity": 1}],
        },
    )
    fields = {"event_id": str(event.event_id), "type": event.type, "event": envelope.encode(event)}
    poison = {"type": ORDER_PLACED, "event": '{"type": "order.placed", "payload": {}}'}
    redis.xadd(stream, poison)  # can never be stored: dead-lettered and acknowledged, not retried
    first = redis.xadd(stream, fields)
    second = redis.xadd(stream, fields)
    assert first != second, "two stream entries carry the same event"
    poll(lambda: _delivered(redis, stream, second), what="all three entries to be consumed")
    notes = [n for n in shop.notifications(user) if n["order_id"] == event.payload["order_id"]]
    assert len(notes) == 1, "a message delivered twice makes one notification"

    # and a real order's event, published again, changes nothing either
    pid = shop.product(stock=5)
    with shop.client() as http:
        order = http.post(
            "/orders",
            json={"items": [{"product_id": pid, "quantity": 1}]},
            headers={**user, "Idempotency-Key": uuid.uuid4().hex},
        ).json()
    poll(
        lambda: [n for n in shop.notifications(user) if n["order_id"] == order["id"]],
        what="the order's notification",
    )
    entries = [
        fields for _, fields in redis.xrange(stream) if order["id"] in fields.get("event", "")
    ]
    assert len(entries) == 1, "the relay published the order's event once"
    again = redis.xadd(stream, entries[0])
    poll(lambda: _delivered(redis, stream, again), what="the re-published entry to be consumed")
    notes = [n for n in shop.notifications(user) if n["order_id"] == order["id"]]
    assert len(notes) == 1, "re-delivering a real order's event adds no notification"
    redis.close()


def test_killing_the_notifier_loses_no_notification(shop, poll):
    import httpx

    user = shop.user()
    pid = shop.product(stock=100)
    body = {"items": [{"product_id": pid, "quantity": 1}]}

    async def orders_while_killing():
        async with httpx.AsyncClient(base_url=shop.api, timeout=30) as http:

            async def place():
                key = {"Idempotency-Key": uuid.uuid4().hex}
                return await http.post("/orders", json=body, headers={**user, **key})

            first = await asyncio.gather(*(place() for _ in range(4)))
            kill = asyncio.to_thread(shop.system.kill, "notifier", signal.SIGKILL)
            during = await asyncio.gather(kill, *(place() for _ in range(4)))
            after = await asyncio.gather(*(place() for _ in range(4)))
            return [*first, *during[1:], *after]

    replies = asyncio.run(orders_while_killing())
    assert [r.status_code for r in replies] == [201] * 12, "orders do not need the notifier"
    assert shop.system.processes["notifier"].returncode == -signal.SIGKILL
    shop.restart("notifier")
    order_ids = {r.json()["id"] for r in replies}

    def all_notified():
        notes = [n for n in shop.notifications(user) if n["order_id"] in order_ids]
        return notes if len(notes) >= len(order_ids) else None

    notes = poll(all_notified, timeout=30, what="a notification for every order")
    assert sorted(n["order_id"] for n in notes) == sorted(order_ids), "one per order, none lost"


def test_sigterm_under_load_publishes_every_accepted_order(shop, poll):
    """Orders gets SIGTERM while three clients keep placing orders: it finishes the requests in
    hand, its relay publishes their events, and it exits 0; every accepted order is notified
    even before orders starts again."""
    import httpx

    users = [shop.user() for _ in range(3)]  # one each: the rate limit is per user
    pid = shop.product(stock=1000)
    body = {"items": [{"product_id": pid, "quantity": 1}]}

    async def orders_while_stopping():
        async with httpx.AsyncClient(base_url=shop.api, timeout=30) as http:
            accepting = asyncio.Event()

            async def keep_placing(user):
                replies = []
                while len(replies) < 40:  # well under the per-minute limit
                    key = {"Idempotency-Key": uuid.uuid4().hex}
                    reply = await http.post("/orders", json=body, headers={**user, **key})
                    replies.append(reply)
                    if reply.status_code != 201:
                        break  # orders has stopped
                    accepting.set()
                return replies

            clients = [asyncio.create_task(keep_placing(user)) for user in users]
            await asyncio.wait_for(accepting.wait(), timeout=20)
            code = await asyncio.to_thread(shop.system.kill, "orders", signal.SIGTERM)
            return await asyncio.gather(*clients), code

    try:
        per_user, code = asyncio.run(orders_while_stopping())
        assert code == 0, "orders exits cleanly on SIGTERM, even under load"
        for user, replies in zip(users, per_user, strict=True):
            # orders gone: 503 (refused) or 502 (cut mid-call), never a 500
            assert {r.status_code for r in replies} <= {201, 502, 503}, replies[-1].text
            accepted = {r.json()["id"] for r in replies if r.status_code == 201}

            def all_notified(user=user, accepted=accepted):
                return accepted <= {n["order_id"] for n in shop.notifications(user)}

            poll(all_notified, timeout=15, what="a notification for every accepted order")
    finally:
        shop.restart("orders")
