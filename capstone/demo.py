"""Walks the shop's six flows against a running system: ``journey capstone demo``.

Each step prints what it did and what came back; the run ends with PASS or FAIL. The admin
(default ``admin@shop.example``) is made by ``journey capstone admin`` (which ``journey capstone
demo`` runs first): registering can never make an admin, so the demo only logs in as it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

ADMIN_EMAIL = "admin@shop.example"
ADMIN_PASSWORD = "admin-password"  # the demo admin of a local shop


class StepFailed(Exception):
    pass


class Demo:
    def __init__(self, gateway: str, say: Callable[[str], None], admin: tuple[str, str]) -> None:
        self.http = httpx.Client(base_url=gateway.rstrip("/") + "/api/v1", timeout=15.0)
        self.health = gateway.rstrip("/") + "/health/ready"
        self.say = say
        self.admin = admin
        self.step_no = 0

    def step(self, title: str) -> None:
        self.step_no += 1
        self.say(f"\n[{self.step_no}] {title}")

    def expect(self, reply: httpx.Response, status: int, what: str) -> Any:
        ok = reply.status_code == status
        self.say(
            f"    {'ok ' if ok else 'BAD'} {reply.request.method} {reply.request.url.path}"
            f" -> {reply.status_code} {what}"
        )
        if not ok:
            raise StepFailed(f"{what}: expected {status}, got {reply.status_code}: {reply.text}")
        return reply.json() if reply.content else None

    def cached_read(self, path: str, cache: str) -> Any:
        """A read that must answer ``X-Cache: <cache>`` (hit or miss)."""
        reply = self.http.get(path)
        got = reply.headers.get("x-cache")
        body = self.expect(reply, 200, f"X-Cache: {got}")
        if got != cache:
            raise StepFailed(f"GET {path}: expected X-Cache: {cache}, got {got}")
        return body

    def account(self, email: str, password: str) -> dict[str, str]:
        reply = self.http.post("/auth/register", json={"email": email, "password": password})
        self.expect(reply, 201, f"registered {email}")
        return self.login(email, password)

    def login(self, email: str, password: str) -> dict[str, str]:
        token = self.expect(
            self.http.post("/auth/token", data={"username": email, "password": password}),
            200,
            f"logged in {email}",
        )
        self.say(f"    scopes: {token['scope']}")
        return {"Authorization": f"Bearer {token['access_token']}"}

    def run(self) -> None:
        self.step("the gateway is ready")
        self.expect(httpx.get(self.health, timeout=5.0), 200, "ready")

        self.step("flow 1: register and log in (OAuth2 password flow, JWT with scopes)")
        admin = self.login(*self.admin)
        tag = uuid.uuid4().hex[:8]
        alice = self.account(f"alice-{tag}@example.com", "alice-password")
        bob = self.account(f"bob-{tag}@example.com", "bob-password")

        self.step("flow 2: anyone lists products a page at a time; a page read again is a hit")
        page = self.expect(self.http.get("/products?limit=2"), 200, "first page of products")
        self.cached_read("/products?limit=2", "hit")
        if page["next_cursor"]:
            after = {"limit": 2, "cursor": page["next_cursor"]}
            self.expect(self.http.get("/products", params=after), 200, "next page, by its cursor")

        self.step("flow 3: an admin creates a product and sets its stock; a write invalidates")
        product = {"sku": f"demo-{tag}", "name": "Demo mug", "price_cents": 1299}
        self.expect(self.http.post("/products", json=product, headers=alice), 403, "not admin")
        created = self.expect(
            self.http.post("/products", json=product, headers=admin), 201, "product created"
        )
        pid = created["id"]
        self.expect(
            self.http.put(f"/products/{pid}/stock", json={"quantity": 5}, headers=admin),
            200,
            "stock set to 5",
        )
        for expected in ("miss", "hit"):
            self.cached_read(f"/products/{pid}", expected)
        self.expect(
            self.http.patch(f"/products/{pid}", json={"price_cents": 1199}, headers=admin),
            200,
            "price changed by the admin",
        )
        fresh = self.cached_read(f"/products/{pid}", "miss")
        if fresh["price_cents"] != 1199:
            raise StepFailed("the read after the write still shows the old price")

        self.step("flow 4: place an order with an Idempotency-Key")
        body = {"items": [{"product_id": pid, "quantity": 2}]}
        key = {"Idempotency-Key": f"demo-{tag}"}
        first = self.expect(
            self.http.post("/orders", json=body, headers={**alice, **key}), 201, "order placed"
        )
        again = self.expect(
            self.http.post("/orders", json=body, headers={**alice, **key}), 201, "same key again"
        )
        if again != first:
            raise StepFailed("the repeated request did not return the same order")
        self.say(f"    same order {first['id']} both times")
        other = {"items": [{"product_id": pid, "quantity": 1}]}
        self.expect(
            self.http.post("/orders", json=other, headers={**alice, **key}),
            422,
            "same key, different body: refused",
        )
        too_many = {"items": [{"product_id": pid, "quantity": 50}]}
        self.expect(
            self.http.post("/orders", json=too_many, headers={**alice, "Idempotency-Key": tag}),
            409,
            "too little stock",
        )
        stock = self.expect(self.http.get(f"/products/{pid}/stock"), 200, "stock read")
        self.say(f"    stock left: {stock['quantity']}")

        self.step("flow 5: the outbox relay publishes; the notifier writes one notification")
        notes = self._wait_notifications(alice, first["id"])
        self.say(f"    {notes[0]['message']}")

        self.step("flow 6: each user sees only their own orders and notifications")
        mine = self.expect(self.http.get("/orders", headers=alice), 200, "alice's orders")
        self.say(f"    alice has {len(mine['items'])} order(s)")
        self.expect(
            self.http.get(f"/orders/{first['id']}", headers=bob), 404, "bob asks for alice's order"
        )
        bobs = self.expect(self.http.get("/notifications", headers=bob), 200, "bob's notifications")
        if bobs["items"]:
            raise StepFailed("bob sees notifications that are not his")

    def _wait_notifications(self, who: dict[str, str], order_id: str) -> list[Any]:
        deadline = time.monotonic() + 15.0
        while True:
            notes = self.http.get("/notifications", headers=who).json()["items"]
            found = [n for n in notes if n["order_id"] == order_id]
            if found:
                self.say(f"    ok  notification for order {order_id} ({len(found)} of them)")
                if len(found) != 1:
                    raise StepFailed("more than one notification for one order")
                return found
            if time.monotonic() > deadline:
                raise StepFailed("no notification within 15s")
            time.sleep(0.2)


def run_demo(
    gateway: str,
    say: Callable[[str], None] = print,
    admin: tuple[str, str] = (ADMIN_EMAIL, ADMIN_PASSWORD),
) -> bool:
    """True when every flow worked; prints each step and a final PASS or FAIL."""
    demo = Demo(gateway, say, admin)
    try:
        demo.run()
    except (StepFailed, httpx.HTTPError) as error:
        say(f"\nFAIL: {error}")
        return False
    finally:
        demo.http.close()
    say("\nPASS: all six flows work")
    return True
