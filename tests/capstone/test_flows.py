"""The six flows of the shop, and their error paths, through the gateway's public API."""

from __future__ import annotations

import uuid

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PROBLEM = "application/problem+json"


def test_every_service_is_live_ready_and_exports_metrics(shop):
    import grpc
    import httpx
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    insider = {"X-Internal-Token": shop.system.config.internal_token}
    for name in ("gateway", "catalog", "orders", "notifier", "inventory"):
        base = shop.system.config.url(name)
        assert httpx.get(f"{base}/health/live").status_code == 200, f"{name} is live"
        ready = httpx.get(f"{base}/health/ready", headers=insider)
        assert ready.status_code == 200, f"{name} should be ready: {ready.text}"
        metrics = httpx.get(f"{base}/metrics", headers=insider)
        assert metrics.status_code == 200
        assert "http_request_duration_seconds" in metrics.text, f"{name} exports RED metrics"
    with grpc.insecure_channel(shop.system.config.inventory_target) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="shop.inventory.v1.Inventory"), timeout=2
        )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_request_id_is_echoed_and_propagated(shop):
    rid = uuid.uuid4().hex
    with shop.client() as http:
        reply = http.get("/products", headers={"X-Request-ID": rid})
        assert reply.headers["x-request-id"] == rid, "the gateway keeps the caller's request id"
        fresh = http.get("/products")
        assert len(fresh.headers["x-request-id"]) >= 16, "a request without one gets a new id"
    logs = shop.log_path.read_text()
    lines = [line for line in logs.splitlines() if rid in line]
    assert any(line.startswith("gateway") for line in lines), "the gateway logs the request id"
    assert any(line.startswith("catalog") for line in lines), "catalog logs the same request id"


def test_register_login_and_me(shop):
    email = f"carol-{uuid.uuid4().hex[:8]}@example.com"
    with shop.client() as http:
        made = http.post("/auth/register", json={"email": email, "password": "carol-pass"})
        assert made.status_code == 201, made.text
        assert made.json()["is_admin"] is False
        again = http.post("/auth/register", json={"email": email, "password": "carol-pass"})
        assert again.status_code == 409, "an email registers once"
        assert again.headers["content-type"] == PROBLEM
        short = http.post("/auth/register", json={"email": "x@example.com", "password": "short"})
        assert short.status_code == 422, "a short password is a validation error"
        assert short.headers["content-type"] == PROBLEM
        bad = http.post("/auth/token", data={"username": email, "password": "wrong-pass"})
        assert bad.status_code == 401
        assert bad.headers["www-authenticate"] == "Bearer"
        token = http.post("/auth/token", data={"username": email, "password": "carol-pass"})
        assert token.status_code == 200, token.text
        body = token.json()
        assert body["token_type"] == "bearer"
        assert set(body["scope"].split()) == {"orders:read", "orders:write"}
        me = http.get("/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.status_code == 200
        assert me.json()["email"] == email
        narrow = http.post(
            "/auth/token",
            data={"username": email, "password": "carol-pass", "scope": "orders:read"},
        )
        assert narrow.json()["scope"] == "orders:read", "a client may ask for fewer scopes"
        reader = {"Authorization": f"Bearer {narrow.json()['access_token']}"}
        write = http.post(
            "/orders",
            json={"items": [{"product_id": 1, "quantity": 1}]},
            headers={**reader, "Idempotency-Key": "k"},
        )
        assert write.status_code == 403, "placing an order needs the orders:write scope"
        assert write.headers["content-type"] == PROBLEM
        assert 'scope="orders:write"' in write.headers["www-authenticate"], "names the scope"


def test_missing_forged_expired_or_misdirected_token_is_401(shop):
    # a token is good only while its user exists: a real one, signed with the session's key
    good = shop.token_claims(shop.me(shop.user()), "orders:read")

    def bearer(**changes):
        return shop.signed_bearer({**good, **changes})

    without_audience = {name: value for name, value in good.items() if name != "aud"}
    with shop.client() as http:
        assert http.get("/orders").status_code == 401
        forged = http.get("/orders", headers={"Authorization": "Bearer not.a.jwt"})
        assert forged.status_code == 401
        assert forged.headers["content-type"] == PROBLEM
        assert http.get("/orders", headers=bearer()).status_code == 200
        expired = http.get("/orders", headers=bearer(exp=good["iat"] - 10))
        assert expired.status_code == 401, "an expired token is refused"
        elsewhere = http.get("/orders", headers=bearer(aud="another-api"))
        assert elsewhere.status_code == 401, "a token for another audience is refused"
        no_audience = http.get("/orders", headers=shop.signed_bearer(without_audience))
        assert no_audience.status_code == 401, "no audience: refused"


def test_admin_creates_products_others_get_403(shop):
    user = shop.user()
    product = {"sku": f"sku-{uuid.uuid4().hex[:8]}", "name": "Lamp", "price_cents": 2500}
    with shop.client() as http:
        assert http.post("/products", json=product).status_code == 401, "anonymous: 401"
        denied = http.post("/products", json=product, headers=user)
        assert denied.status_code == 403, "a token without the admin scope: 403"
        assert denied.headers["content-type"] == PROBLEM
        assert http.put("/products/1/stock", json={"quantity": 1}, headers=user).status_code == 403
        bad = http.post("/products", json={**product, "price_cents": -1}, headers=shop.admin())
        assert bad.status_code == 422, "a negative price is a validation error"
        made = http.post("/products", json=product, headers=shop.admin())
        assert made.status_code == 201, made.text
        dup = http.post("/products", json=product, headers=shop.admin())
        assert dup.status_code == 409, "a sku is unique"
        pid = made.json()["id"]
        stock = http.put(f"/products/{pid}/stock", json={"quantity": 7}, headers=shop.admin())
        assert stock.json() == {"product_id": pid, "quantity": 7}
        assert http.get(f"/products/{pid}/stock").json()["quantity"] == 7


def test_product_reads_are_cached_and_writes_invalidate(shop):
    pid = shop.product(stock=1)
    with shop.client() as http:
        first = http.get(f"/products/{pid}")
        second = http.get(f"/products/{pid}")
        assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
        assert "age" in second.headers, "the second read is the gateway's own copy"
        assert first.json() == second.json()
        http.get("/products", params={"limit": 100})
        assert http.get("/products", params={"limit": 100}).headers["x-cache"] == "hit"
        patched = http.patch(f"/products/{pid}", json={"name": "renamed"}, headers=shop.admin())
        assert patched.status_code == 200, patched.text
        after = http.get(f"/products/{pid}")
        assert after.headers["x-cache"] == "miss", "a write invalidates the product's entry"
        assert after.json()["name"] == "renamed"
        page = http.get("/products", params={"limit": 100})
        assert page.headers["x-cache"] == "miss", "a write invalidates the cached pages"
        assert "renamed" in [p["name"] for p in page.json()["items"]]
        assert http.get("/products/999999999").status_code == 404


def test_products_are_paged_by_cursor(shop):
    from capstone.contracts.paging import encode_cursor

    made = [shop.product(stock=0) for _ in range(3)]
    seen = [item["id"] for item in shop.pages("/products", {})]
    assert seen == sorted(set(seen)), "pages in id order, no product twice"
    assert set(made) <= set(seen), "every product is on a page"
    with shop.client() as http:
        # one product a page, from just before the first of ours: each cursor leads to the
        # next, and the newest product's page is the last (its cursor null)
        cursor = encode_cursor(made[0] - 1)
        for expected in made:
            body = http.get("/products", params={"limit": 1, "cursor": cursor}).json()
            assert set(body) == {"items", "next_cursor"}
            assert [item["id"] for item in body["items"]] == [expected]
            cursor = body["next_cursor"]
        assert cursor is None, "no page follows the newest product"


def test_one_request_id_is_on_the_log_lines_of_every_service_an_order_crosses(shop, poll):
    import json

    request_id = f"flow-{uuid.uuid4().hex}"
    user, pid = shop.user(), shop.product(stock=1)
    headers = {**user, "Idempotency-Key": uuid.uuid4().hex, "X-Request-ID": request_id}
    with shop.client() as http:
        placed = http.post(
            "/orders", json={"items": [{"product_id": pid, "quantity": 1}]}, headers=headers
        )
    assert placed.status_code == 201, placed.text

    def services_that_logged_it() -> set[str]:
        found = set()
        for line in shop.log_path.read_text(errors="replace").splitlines():
            service, _, text = line.partition(" | ")
            if request_id in text and json.loads(text).get("request_id") == request_id:
                found.add(service.strip())
        return found

    everyone = {"gateway", "orders", "inventory", "notifier"}
    poll(lambda: everyone <= services_that_logged_it(), 20, "the request id in every log")


def test_order_flow_idempotent_replay_and_notification(shop, poll):
    alice, bob = shop.user(), shop.user()
    pid = shop.product(stock=5)
    body = {"items": [{"product_id": pid, "quantity": 2}]}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    with shop.client() as http:
        placed = http.post("/orders", json=body, headers={**alice, **key})
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert order["items"] == body["items"]
        again = http.post("/orders", json=body, headers={**alice, **key})
        assert again.status_code == 201
        assert again.content == placed.content, "the same key answers the same response"
        assert again.headers.get("idempotent-replayed") == "true"
        assert http.get(f"/products/{pid}/stock").json()["quantity"] == 3, "reserved once"
        mine = http.get("/orders", headers=alice).json()
        assert [o["id"] for o in mine["items"]] == [order["id"]]
        assert mine["next_cursor"] is None
        assert http.get(f"/orders/{order['id']}", headers=alice).json() == order
        theirs = http.get(f"/orders/{order['id']}", headers=bob)
        assert theirs.status_code == 404, "another user's order is not found, not forbidden"
        assert theirs.json()["instance"] == f"/api/v1/orders/{order['id']}", "not orders' path"
        assert http.get("/orders", headers=bob).json() == {"items": [], "next_cursor": None}

    def notified():
        return [n for n in shop.notifications(alice) if n["order_id"] == order["id"]]

    notes = poll(notified, timeout=15, what="the order's notification")
    assert len(notes) == 1, "one notification per order"
    assert shop.notifications(bob) == [], "bob never sees alice's notifications"


def test_order_error_paths(shop):
    user = shop.user()
    pid = shop.product(stock=1)
    with shop.client() as http:

        def post(body, key=None, headers=user):
            extra = {"Idempotency-Key": key or uuid.uuid4().hex}
            return http.post("/orders", json=body, headers={**headers, **extra})

        short = post({"items": [{"product_id": pid, "quantity": 2}]})
        assert short.status_code == 409, "too little stock is a clear 409"
        assert short.headers["content-type"] == PROBLEM
        assert short.json()["title"] == "Insufficient stock"
        assert http.get(f"/products/{pid}/stock").json()["quantity"] == 1, "nothing was taken"
        zero = post({"items": [{"product_id": pid, "quantity": 0}]})
        assert zero.status_code == 422
        empty = post({"items": []})
        assert empty.status_code == 422
        no_key = http.post(
            "/orders", json={"items": [{"product_id": pid, "quantity": 1}]}, headers=user
        )
        assert no_key.status_code == 422, "an order needs an Idempotency-Key"
        key = uuid.uuid4().hex
        assert post({"items": [{"product_id": pid, "quantity": 1}]}, key).status_code == 201
        reused = post({"items": [{"product_id": pid, "quantity": 2}]}, key)
        assert reused.status_code == 422, "the same key with another body is refused"
        assert reused.json()["title"] == "Idempotency key reused"
