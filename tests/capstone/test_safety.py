"""Safe by default (issue 10, items 3, 4, 5, 7 and 9): secrets, identity, abuse, bad input,
dependencies that are down, and an honest API document.

Most tests drive the session's running shop. Those that need a dependency taken away, or limits
small enough to reach quickly, build one service's app in this process (like test_readiness)
against the shop's own PostgreSQL and Redis, under a key prefix of their own.
"""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from capstone.contracts.paging import encode_cursor

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
ROOT = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"
MAX_ID = 2**63 - 1
RATE_LIMIT = 60  # the session gateway's RATE_LIMIT_PER_MINUTE (see conftest)


def _closed_port() -> int:
    from capstone.runner import free_port

    return free_port()  # bound, then released: nothing listens there


def _gateway(shop: Any, **overrides: Any) -> Any:
    """The gateway's app, built here, with the shop's database, Redis and services."""
    from capstone.gateway.app import build_app
    from capstone.gateway.settings import GatewaySettings

    config = shop.system.config
    settings: dict[str, Any] = {
        "database_url": config.database_url("gateway"),
        "redis_url": config.redis_url,
        "key_prefix": f"{shop.prefix}:{uuid.uuid4().hex[:6]}",  # limits of its own
        "catalog_url": config.url("catalog"),
        "orders_url": config.url("orders"),
        "notifier_url": config.url("notifier"),
        "jwt_secret": config.jwt_secret,
        "internal_token": config.internal_token,
        **overrides,
    }
    return build_app(GatewaySettings(**settings))


def _catalog(shop: Any, **overrides: Any) -> Any:
    from capstone.catalog.app import build_app
    from capstone.catalog.settings import CatalogSettings

    config = shop.system.config
    settings: dict[str, Any] = {
        "database_url": config.database_url("catalog"),
        "redis_url": config.redis_url,
        "key_prefix": f"{shop.prefix}:{uuid.uuid4().hex[:6]}",
        "internal_token": config.internal_token,
        **overrides,
    }
    return build_app(CatalogSettings(**settings))


def _insider(shop: Any) -> dict[str, str]:
    return {"X-Internal-Token": shop.system.config.internal_token}


def _new_email() -> str:
    return f"u-{uuid.uuid4().hex[:10]}@example.com"


# -- 3. secrets and identity ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "env", "wrong"),
    [
        ("gateway", {"INTERNAL_TOKEN": "i" * 40}, "JWT_SECRET: Field required"),
        ("gateway", {"JWT_SECRET": "short-secret", "INTERNAL_TOKEN": "i" * 40}, "32 bytes"),
        (
            "gateway",
            {
                "JWT_SECRET": "dev-only-secret-change-me-0123456789abcdef",
                "INTERNAL_TOKEN": "i" * 40,
            },
            "published",
        ),
        ("catalog", {}, "INTERNAL_TOKEN: Field required"),
        ("orders", {"INTERNAL_TOKEN": "dev-only-insecure-jwt-secret-change-me"}, "published"),
    ],
)
def test_services_refuse_to_start_without_a_strong_unpublished_secret(service, env, wrong):
    clean = {k: v for k, v in os.environ.items() if k not in ("JWT_SECRET", "INTERNAL_TOKEN")}
    done = subprocess.run(
        [sys.executable, "-m", f"capstone.{service}", "serve"],
        cwd=ROOT,
        env={**clean, "SERVICE_PORT": str(_closed_port()), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, f"{service} must refuse to start:\n{done.stdout}{done.stderr}"
    assert wrong in done.stdout
    for value in env.values():
        assert value not in done.stdout + done.stderr, "the refusal never prints a secret"


def test_services_refuse_to_start_naming_every_wrong_shared_setting_at_once():
    """Lesson 01's piece checks where a service listens, its log level, database and Redis."""
    password = "not-for-the-logs-4711"
    env = {
        "INTERNAL_TOKEN": "i" * 40,
        "SERVICE_PORT": "70000",
        "LOG_LEVEL": "chatty",
        "DATABASE_URL": f"mysql://shop:{password}@db/shop_orders",
        "REDIS_URL": "memcached://cache:11211",
    }
    done = subprocess.run(
        [sys.executable, "-m", "capstone.orders", "serve"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, f"orders must refuse to start:\n{done.stdout}{done.stderr}"
    for wrong in (
        "SERVICE_PORT: must be from 1 to 65535",
        "LOG_LEVEL: must be one of DEBUG, INFO",
        "DATABASE_URL: must look like postgresql+psycopg://",
        "REDIS_URL: must look like redis://",
    ):
        assert wrong in done.stdout
    assert password not in done.stdout + done.stderr, "a URL's password is never printed"


def test_up_makes_secrets_once_and_keeps_them_outside_the_repository(tmp_path):
    from capstone.runner import Config, load_or_create_secrets, secrets_file

    path = tmp_path / "nested" / "capstone.env"
    first = load_or_create_secrets(path)
    assert set(first) == {"JWT_SECRET", "INTERNAL_TOKEN"}
    assert all(len(value) >= 32 for value in first.values())
    assert first["JWT_SECRET"] != first["INTERNAL_TOKEN"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "only the user may read them"
    assert load_or_create_secrets(path) == first, "made once, then kept"
    assert ROOT not in secrets_file().parents, "the kept secrets live outside the repository"
    assert Config().jwt_secret != Config().jwt_secret, "a harness without kept ones makes its own"


def test_a_token_signed_with_a_published_secret_is_refused(shop):
    claims = shop.token_claims(shop.me(shop.admin()), "admin orders:read orders:write")
    # the right key id, issuer and audience: only the secret is wrong
    forged = shop.signed_bearer(claims, secret="dev-only-secret-change-me-0123456789abcdef")
    product = {"sku": f"f-{uuid.uuid4().hex[:8]}", "name": "forged", "price_cents": 1}
    with shop.client() as http:
        reply = http.post("/products", json=product, headers=forged)
    assert reply.status_code == 401


def test_a_deleted_users_token_is_refused(shop):
    import psycopg

    user = shop.user()
    user_id = shop.me(user)
    with psycopg.connect(shop.database_url("gateway"), autocommit=True) as conn:
        conn.execute("DELETE FROM users WHERE id = %s", (user_id,))
    with shop.client() as http:
        orders = http.get("/orders", headers=user)
        placed = http.post(
            "/orders",
            json={"items": [{"product_id": 1, "quantity": 1}]},
            headers={**user, "Idempotency-Key": uuid.uuid4().hex},
        )
    assert (orders.status_code, placed.status_code) == (401, 401)
    assert orders.headers["content-type"] == PROBLEM


def test_admin_comes_from_the_stored_role_set_by_the_admin_command(shop):
    import psycopg

    email, password = _new_email(), "boss-password"
    product = {"sku": f"r-{uuid.uuid4().hex[:8]}", "name": "role", "price_cents": 100}
    with shop.client() as http:
        made = http.post("/auth/register", json={"email": email, "password": password})
        assert made.json()["role"] == "user", "registering never makes an admin"
        asked = http.post(
            "/auth/token", data={"username": email, "password": password, "scope": "admin"}
        )
        assert asked.json()["scope"] == "", "asking for the admin scope is not enough"

    promote = subprocess.run(
        [sys.executable, "-m", "journey.capstone_cli", "admin", email, "--db-prefix", shop.prefix],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert promote.returncode == 0, promote.stdout + promote.stderr
    assert f"{email}: promoted" in promote.stdout

    with shop.client() as http:
        token = http.post("/auth/token", data={"username": email, "password": password}).json()
        assert "admin" in token["scope"].split()
        boss = {"Authorization": f"Bearer {token['access_token']}"}
        assert http.post("/products", json=product, headers=boss).status_code == 201
        with psycopg.connect(shop.database_url("gateway"), autocommit=True) as conn:
            conn.execute("UPDATE users SET role = 'user' WHERE email = %s", (email,))
        again = {**product, "sku": f"r-{uuid.uuid4().hex[:8]}"}
        demoted = http.post("/products", json=again, headers=boss)
        assert demoted.status_code == 403, "a demoted admin's token loses admin at once"


def test_the_admin_command_creates_an_admin(shop):
    email = _new_email()
    made = subprocess.run(
        [
            *(sys.executable, "-m", "journey.capstone_cli", "admin", email),
            *("--password", "new-admin-password", "--db-prefix", shop.prefix),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    assert f"{email}: created" in made.stdout
    with shop.client() as http:
        token = http.post("/auth/token", data={"username": email, "password": "new-admin-password"})
    assert "admin" in token.json()["scope"].split()


@pytest.mark.parametrize(
    ("service", "path"),
    [("catalog", "/products"), ("orders", "/orders"), ("notifier", "/notifications")],
)
def test_internal_services_answer_only_the_gateway(shop, service, path):
    import httpx

    base = shop.system.config.url(service)
    caller = {"X-User-ID": "someone-else"}
    direct = httpx.get(f"{base}{path}", headers=caller)
    assert direct.status_code == 401, f"{service} trusts X-User-ID from anyone"
    assert direct.headers["content-type"] == PROBLEM
    wrong = httpx.get(f"{base}{path}", headers={**caller, "X-Internal-Token": "x" * 43})
    assert wrong.status_code == 401
    insider = httpx.get(f"{base}{path}", headers={**caller, **_insider(shop)})
    assert insider.status_code == 200, insider.text
    assert httpx.get(f"{base}/health/ready").status_code == 200, "probes need no token"


# -- 4. abuse -------------------------------------------------------------------------------


def test_guessing_from_one_client_does_not_lock_the_owner_out_elsewhere(shop):
    """The session's gateway allows 60 logins a minute per account and client."""
    import httpx

    email = _new_email()
    shop.user(email)

    def client_from(address: str) -> httpx.Client:
        transport = httpx.HTTPTransport(local_address=address)
        return httpx.Client(base_url=shop.api, transport=transport, timeout=20)

    with client_from("127.0.0.2") as guesser:
        statuses = [
            guesser.post("/auth/token", data={"username": email, "password": "guess"}).status_code
            for _ in range(RATE_LIMIT + 1)
        ]
    assert statuses[-1] == 429, "the guessing client is limited"
    with client_from("127.0.0.3") as owner:
        mine = owner.post("/auth/token", data={"username": email, "password": "password-123"})
    assert mine.status_code == 200, "the owner, from elsewhere, still logs in"


def test_logins_and_registrations_are_limited_per_client(shop):
    from fastapi.testclient import TestClient

    limits = {
        "key_prefix": f"{shop.prefix}:{uuid.uuid4().hex[:6]}",  # one gateway, seen twice
        "login_per_client_per_minute": 5,
        "register_per_client_per_minute": 3,
    }
    with TestClient(_gateway(shop, **limits), client=("10.1.1.1", 4000)) as one:
        registered = [
            one.post(
                "/api/v1/auth/register", json={"email": _new_email(), "password": "password-1"}
            ).status_code
            for _ in range(4)
        ]
        logins = [
            one.post(
                "/api/v1/auth/token", data={"username": _new_email(), "password": "x"}
            ).status_code
            for _ in range(6)
        ]
    assert registered == [201, 201, 201, 429]
    assert logins == [401] * 5 + [429], "many accounts from one client: limited too"
    with TestClient(_gateway(shop, **limits), client=("10.1.1.2", 4000)) as other:
        fine = other.post(
            "/api/v1/auth/register", json={"email": _new_email(), "password": "password-1"}
        )
    assert fine.status_code == 201, "another client is not affected"


def test_a_body_over_the_limit_is_413_declared_or_streamed(shop):
    big = b'{"email": "' + b"a" * (70 * 1024) + b'@example.com", "password": "password-1"}'
    with shop.client() as http:
        declared = http.post(
            "/auth/register", content=big, headers={"content-type": "application/json"}
        )
        streamed = http.post(
            "/auth/register",
            content=iter([big[i : i + 8192] for i in range(0, len(big), 8192)]),
            headers={"content-type": "application/json"},
        )
    assert declared.status_code == 413
    assert declared.headers["content-type"] == PROBLEM
    assert streamed.request.headers.get("transfer-encoding") == "chunked"
    assert streamed.status_code == 413, "a chunked body without a length is counted as it comes"


def _raw(port: int, data: bytes, wait: float = 10.0) -> tuple[bytes, float]:
    """Sends ``data``, then reads until the server closes; what came back and when."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(data)
        sock.settimeout(wait)
        received = b""
        try:
            while chunk := sock.recv(4096):
                received += chunk
        except TimeoutError:
            pytest.fail(f"the connection is still open after {wait}s: {received[:200]!r}")
    return received, time.monotonic() - started


def test_half_sent_requests_are_cut_off(shop):
    """The session's services wait 2 s for headers and for each piece of a body."""
    port = shop.system.config.ports.gateway
    body_start = (
        b"POST /api/v1/auth/register HTTP/1.1\r\nHost: shop\r\n"
        b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email": '
    )
    answer, _ = _raw(port, body_start)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    _, took = _raw(port, b"GET /api/v1/products HTTP/1.1\r\nHost: shop\r\nX-Slow: ")
    assert took < 8, "headers that never end are cut off"


@pytest.mark.parametrize(
    "sent",
    [
        b"x" * 129,  # lesson 09's rule: 1 to 128 visible ASCII characters
        b"has space",
        b"tab\there",
        "caf\u00e9".encode("latin-1"),
        b"\xff\xfe-not-ascii",
    ],
)
def test_an_unacceptable_request_id_is_replaced_never_echoed_or_logged(shop, sent):
    import httpx

    marker = uuid.uuid4().hex[:12]
    value = sent + marker.encode()
    with httpx.Client(base_url=shop.api) as http:
        reply = http.get("/products", headers=[(b"X-Request-ID", value)])
    assert reply.status_code == 200
    echoed = reply.headers["x-request-id"]
    assert marker not in echoed
    assert 16 <= len(echoed) <= 64
    assert marker not in shop.log_path.read_text(errors="replace"), "never logged as is"


# -- 5. no 500 for bad input -------------------------------------------------------------------

HUGE = 2**63
NUL_NAME = {"sku": "s", "name": "\x00", "price_cents": 1}
BAD_INPUT = [
    ("GET", f"/products/{HUGE}", {}, 422),
    ("GET", f"/products/{MAX_ID}", {}, 404),
    ("GET", "/products", {"params": {"cursor": encode_cursor(HUGE)}}, 422),
    ("GET", "/products", {"params": {"cursor": encode_cursor("1 OR 1=1")}}, 422),
    ("GET", "/products", {"params": {"cursor": "not a cursor"}}, 422),
    ("GET", f"/products/{HUGE}/stock", {}, 422),
    ("PUT", f"/products/{HUGE}/stock", {"json": {"quantity": 1}, "admin": True}, 422),
    ("PATCH", f"/products/{HUGE}", {"json": {"name": "x"}, "admin": True}, 422),
    ("POST", "/orders", {"json": {"items": [{"product_id": HUGE, "quantity": 1}]}}, 422),
    ("POST", "/auth/register", {"json": {"email": "a\x00b@example.com", "password": "p" * 9}}, 422),
    ("POST", "/auth/register", {"json": {"email": "ab@example.com", "password": "p\x00" * 9}}, 422),
    ("POST", "/auth/token", {"data": {"username": "a\x00@example.com", "password": "x"}}, 422),
    ("POST", "/auth/token", {"data": {"username": "a@example.com", "password": "x\x00"}}, 422),
    ("POST", "/products", {"json": NUL_NAME, "admin": True}, 422),
    ("PATCH", "/products/1", {"json": {"description": "\x00"}, "admin": True}, 422),
    ("POST", "/products", {"json": {**NUL_NAME, "name": "\x1b[2J"}, "admin": True}, 422),
    ("POST", "/products", {"json": {**NUL_NAME, "name": "s", "price": "1.00"}, "admin": True}, 422),
    ("GET", "/orders/%00", {}, 422),
    ("GET", "/orders/a%3Fb", {}, 404),
    ("GET", "/orders/a%23b", {}, 404),
    ("GET", "/orders/a%01b", {}, 422),  # a control character: no id holds one
    ("GET", "/orders/a%0Ab", {}, 404),  # a newline is text, and escaped on the way in
    ("GET", "/orders/..%2Fstock%2F1", {}, 404),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "sent", "status"), BAD_INPUT)
def test_bad_input_is_a_4xx_problem_never_a_500(shop, method, path, sent, status):
    sent = dict(sent)
    headers = shop.admin() if sent.pop("admin", False) else shop.user()
    if path == "/orders":
        headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    with shop.client() as http:
        reply = http.request(method, path, headers=headers, **sent)
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("suffix", ["%3Fx=1", "%23part", "%3F"])
def test_an_order_id_is_escaped_before_it_goes_into_an_internal_url(shop, suffix):
    """``<id>?x=1`` or ``<id>#part`` is not the order ``<id>``: unescaped, the internal call
    would drop what follows and answer another order than the one asked for."""
    user = shop.user()
    pid = shop.product(stock=1)
    with shop.client() as http:
        order = http.post(
            "/orders",
            json={"items": [{"product_id": pid, "quantity": 1}]},
            headers={**user, "Idempotency-Key": uuid.uuid4().hex},
        ).json()
        assert http.get(f"/orders/{order['id']}", headers=user).status_code == 200
        reply = http.get(f"/orders/{order['id']}{suffix}", headers=user)
    assert reply.status_code == 404, reply.text


def test_a_non_ascii_idempotency_key_is_422(shop):
    import httpx

    body = b'{"items": [{"product_id": 1, "quantity": 1}]}'
    headers = [
        *((k.encode(), v.encode()) for k, v in shop.user().items()),
        (b"content-type", b"application/json"),
        (b"Idempotency-Key", "cl\u00e9".encode("latin-1")),
    ]
    with httpx.Client(base_url=shop.api) as http:
        reply = http.post("/orders", content=body, headers=headers)
    assert reply.status_code == 422, reply.text


def test_500_and_502_carry_the_request_id(shop):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from capstone.common.service import create_app

    app: FastAPI = create_app("crashy", lifespan=None, checks={})

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        crashed = client.get("/boom", headers={"X-Request-ID": "req-500"})
    assert crashed.status_code == 500
    assert crashed.headers["x-request-id"] == "req-500"
    assert crashed.headers["content-type"] == PROBLEM
    assert "a bug" not in crashed.text, "nothing about the bug reaches the client"

    with (
        _hanging_up_server() as port,
        TestClient(_gateway(shop, catalog_url=f"http://127.0.0.1:{port}")) as client,
    ):
        broken = client.get("/api/v1/products", headers={"X-Request-ID": "req-502"})
    assert broken.status_code == 502
    assert broken.headers["x-request-id"] == "req-502"


@contextmanager
def _hanging_up_server() -> Iterator[int]:
    """A TCP server that accepts a connection, reads the request and closes without answering."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


# -- 7. a dependency that is down --------------------------------------------------------------


def _retry_after_ok(reply: Any) -> int:
    assert reply.status_code == 503, reply.text
    assert reply.headers["content-type"] == PROBLEM
    seconds = int(reply.headers["retry-after"])
    assert 1 <= seconds <= 5
    return seconds


def test_redis_or_the_database_down_is_503_with_a_jittered_retry_after(shop):
    from fastapi.testclient import TestClient

    redis_down = _gateway(shop, redis_url=f"redis://127.0.0.1:{_closed_port()}/0")
    with TestClient(redis_down) as client:
        waits = {
            _retry_after_ok(
                client.post("/api/v1/auth/token", data={"username": "a@b.cd", "password": "x"})
            )
            for _ in range(12)
        }
    assert len(waits) > 1, "clients told the same wait would all come back at once"

    database_down = _gateway(
        shop, database_url=f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/nowhere"
    )
    with TestClient(database_down) as client:
        _retry_after_ok(client.get("/api/v1/orders", headers=shop.user()))


def test_a_service_down_is_503_with_retry_after(shop):
    from fastapi.testclient import TestClient

    with TestClient(_gateway(shop, catalog_url=f"http://127.0.0.1:{_closed_port()}")) as client:
        _retry_after_ok(client.get("/api/v1/products"))


def test_the_gateway_waits_for_a_redis_connection_instead_of_failing(shop):
    import httpx

    app = _gateway(shop, redis_pool_size=1, redis_pool_timeout_seconds=10)

    async def many_logins() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
            replies = await asyncio.gather(
                *(
                    http.post(
                        "/api/v1/auth/token", data={"username": _new_email(), "password": "x"}
                    )
                    for _ in range(12)
                )
            )
        return [r.status_code for r in replies]

    assert asyncio.run(many_logins()) == [401] * 12, "one connection, twelve requests: all wait"


class _Cuttable:
    """A TCP proxy to the real Redis that can be cut (every connection dropped, new ones
    refused) and restored: Redis going away and coming back, with its data."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = int(self.listener.getsockname()[1])
        self.open = threading.Event()
        self.open.set()
        self.stop = threading.Event()
        self.sockets: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            if not self.open.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.open.clear()
        for s in self.sockets:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self.sockets.clear()

    def restore(self) -> None:
        self.open.set()

    def close(self) -> None:
        self.cut()
        self.stop.set()
        self.thread.join(timeout=5)
        self.listener.close()


def test_catalog_reads_fall_back_to_the_database_and_invalidation_survives_redis_away(shop):
    from urllib.parse import urlsplit

    from fastapi.testclient import TestClient

    redis_at = urlsplit(shop.system.config.redis_url)
    proxy = _Cuttable((redis_at.hostname or "127.0.0.1", redis_at.port or 6379))
    database = urlsplit(shop.system.config.redis_url).path or "/0"
    app = _catalog(shop, redis_url=f"redis://127.0.0.1:{proxy.port}{database}")
    insider = _insider(shop)
    sku = f"c-{uuid.uuid4().hex[:8]}"
    try:
        with TestClient(app, headers=insider) as client:
            made = client.post("/products", json={"sku": sku, "name": "v1", "price_cents": 1})
            pid = made.json()["id"]
            assert client.get(f"/products/{pid}").headers["x-cache"] == "miss"
            assert client.get(f"/products/{pid}").headers["x-cache"] == "hit"

            proxy.cut()
            read = client.get(f"/products/{pid}")
            assert read.status_code == 200, "Redis away: the read comes from the database"
            patched = client.patch(f"/products/{pid}", json={"name": "v2"})
            assert patched.status_code == 200, "a write does not need the cache"
            assert client.get("/products", params={"limit": 100}).status_code == 200

            proxy.restore()
            after = client.get(f"/products/{pid}")
            assert after.json()["name"] == "v2", "the cached v1 is never served after Redis is back"
            assert client.get(f"/products/{pid}").headers["x-cache"] == "hit", "caching again"
    finally:
        proxy.close()


def test_database_statements_have_a_timeout(shop):
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from capstone.common.db import Database

    db = Database(shop.system.config.database_url("catalog"), statement_timeout_ms=200)
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError, match="statement timeout"):
            asyncio.run(db.run(lambda s: s.execute(text("SELECT pg_sleep(5)"))))
    finally:
        db.close()
    assert time.monotonic() - started < 3


# -- 9. the API document, the docs page, what is not public -------------------------------------


def test_every_error_of_every_route_is_documented_as_problem_json(shop):
    import httpx

    document = httpx.get(f"{shop.gateway}/openapi.json").json()
    assert "Problem" in document["components"]["schemas"]
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            statuses = set(operation["responses"])
            assert {"422", "500", "503"} <= statuses, f"{method} {path}: {sorted(statuses)}"
            for status, response in operation["responses"].items():
                if status.startswith("2"):
                    assert response["content"]["application/json"]["schema"], (method, path)
                    continue
                assert set(response["content"]) == {PROBLEM}, f"{method} {path} {status}"
                checked += 1
    assert checked > 50


def test_the_docs_page_needs_no_network(shop):
    import httpx

    page = httpx.get(f"{shop.gateway}/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in page.text
    assert "http://" not in page.text, "no CDN, no third party"
    assert "https://" not in page.text


def test_metrics_and_readiness_details_are_not_public_on_the_gateway(shop):
    import httpx

    gateway = shop.gateway
    assert httpx.get(f"{gateway}/metrics").status_code == 404
    assert httpx.get(f"{gateway}/metrics", headers=_insider(shop)).status_code == 200
    public = httpx.get(f"{gateway}/health/ready")
    assert public.json() == {"status": "ok"}, "anyone learns ready or not, nothing more"
    detailed = httpx.get(f"{gateway}/health/ready", headers=_insider(shop))
    assert detailed.json()["checked"] == ["database", "redis"]
