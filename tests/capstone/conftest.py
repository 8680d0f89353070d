"""The whole shop, started once per test session the way ``journey capstone up`` starts it:
every service a process, on free ports, with databases ``shoptest_<pid>_<hex>_<service>`` and
Redis keys and stream under the same unique prefix. All of it is dropped at the end.

Tracing is on in this shop: every service appends its spans to one file (``TRACE_FILE``), so
every test also runs the traced code, and test_trace.py reads the file.

The shop runs on the reference pieces (capstone/pieces.py). With ``CAPSTONE_MINE`` set (the
exercise ids, as ``journey capstone up --mine`` passes them) it runs on those pieces from
``exercises/`` instead: the whole suite then checks the shop on the learner's code."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from journey.pytest_plugin import require_service

ORPHAN = re.compile(r"^shoptest_(?P<pid>\d+)_[0-9a-f]+_\w+$")
RATE_LIMIT = 60
ADMIN = ("admin@shop.example", "admin-password")  # the demo's admin, so the demo can log in
# every test registers and logs in from 127.0.0.1: per-client limits are tested on their own
GENEROUS = "100000"


def wait_for(check: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Polls ``check`` until it returns something truthy; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    pause = 0.05
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(pause)
        pause = min(pause * 2, 0.3)


@pytest.fixture(autouse=True, scope="module")
def _telemetry_put_back() -> Iterator[None]:
    """A test that builds a service's app in this process sets up the service's telemetry (its
    log handler on the root logger); it is closed after each module, so the tests of other
    folders (lesson 09's) find no handler of the shop's on the root logger."""
    yield
    from capstone.common.observability import shutdown_telemetry

    shutdown_telemetry()


@pytest.fixture
def poll() -> Callable[..., Any]:
    """``poll(check, timeout, what)``: wait on a condition with a deadline, never a fixed sleep."""
    return wait_for


MAX_PAGES = 1_000  # more than any test's list holds: a list that never ends fails
# a read through the gateway that reaches the service (503 while the gateway cannot)
ROUTED_TO = {
    "catalog": "/products?limit=1",
    "orders": "/products/1/stock",
    "notifier": "/notifications?limit=1",
}


@dataclass
class Shop:
    """The running system and a few conveniences to drive it through the public API."""

    system: Any
    gateway: str
    prefix: str
    log_path: Path
    trace_path: Path  # every service's spans, one JSON line each
    _admin: dict[str, str] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return f"{self.gateway}/api/v1"

    def client(self) -> Any:
        import httpx

        return httpx.Client(base_url=self.api, timeout=20.0)

    def user(self, email: str | None = None, password: str = "password-123") -> dict[str, str]:
        """Registers a new user and returns its Authorization header."""
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        with self.client() as http:
            made = http.post("/auth/register", json={"email": email, "password": password})
            assert made.status_code in (201, 409), made.text
            token = http.post("/auth/token", data={"username": email, "password": password})
            assert token.status_code == 200, token.text
        return {"Authorization": f"Bearer {token.json()['access_token']}"}

    def admin(self) -> dict[str, str]:
        if not self._admin:
            self._admin = self.user(*ADMIN)
        return self._admin

    def me(self, headers: dict[str, str]) -> str:
        """The id of the user whose token is in ``headers``."""
        with self.client() as http:
            return str(http.get("/users/me", headers=headers).json()["id"])

    @staticmethod
    def token_claims(user_id: str, scope: str, seconds: int = 60) -> dict[str, Any]:
        """The claims of a token as the gateway issues it (its issuer and audience)."""
        from capstone.gateway.security import AUDIENCE, ISSUER

        now = int(time.time())
        return {
            "sub": user_id, "scope": scope, "iat": now, "exp": now + seconds,
            "iss": ISSUER, "aud": AUDIENCE,
        }  # fmt: skip

    def signed_bearer(self, claims: dict[str, Any], secret: str | None = None) -> dict[str, str]:
        """An Authorization header whose token holds exactly ``claims``, signed as the gateway
        signs (HS256, its key id) with the session's secret, or with ``secret``."""
        import jwt

        from capstone.gateway.security import KEY_ID

        key = secret if secret is not None else self.system.config.jwt_secret
        token = jwt.encode(claims, key, algorithm="HS256", headers={"kid": KEY_ID})
        return {"Authorization": f"Bearer {token}"}

    def product(self, stock: int) -> int:
        """A new product with ``stock`` units, made through the admin API."""
        tag = uuid.uuid4().hex[:10]
        with self.client() as http:
            made = http.post(
                "/products",
                json={"sku": f"sku-{tag}", "name": f"thing {tag}", "price_cents": 500},
                headers=self.admin(),
            )
            assert made.status_code == 201, made.text
            pid = int(made.json()["id"])
            put = http.put(f"/products/{pid}/stock", json={"quantity": stock}, headers=self.admin())
            assert put.status_code == 200, put.text
        return pid

    def notifications(self, headers: dict[str, str]) -> list[dict[str, Any]]:
        """Every notification of the user: all the pages."""
        return self.pages("/notifications", headers)

    def orders(self, headers: dict[str, str]) -> list[dict[str, Any]]:
        """Every order of the user: all the pages."""
        return self.pages("/orders", headers)

    def pages(self, path: str, headers: dict[str, str], limit: int = 100) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": limit}
        with self.client() as http:
            for _ in range(MAX_PAGES):
                reply = http.get(path, headers=headers, params=params)
                assert reply.status_code == 200, reply.text
                page = reply.json()
                found += page["items"]
                if page["next_cursor"] is None:
                    return found
                params["cursor"] = page["next_cursor"]
        pytest.fail(f"{path} still had a next_cursor after {MAX_PAGES} pages: it never ends")

    def restart(self, name: str) -> None:
        """Starts ``name`` again (after a test killed it) and waits until the gateway reaches
        it: the gateway's discovery snapshot and passive health lag a restart by a second or two
        (a 503 meanwhile), and the next test must find the shop as it was."""
        self.system.restart(name, timeout=30)
        path = ROUTED_TO.get(name)
        if path is None:
            return
        headers = self.admin()
        with self.client() as http:
            wait_for(
                lambda: http.get(path, headers=headers).status_code != 503,
                15,
                f"the gateway to reach {name} again",
            )

    def database_url(self, service: str) -> str:
        return str(self.system.config.database_url(service)).replace(
            "postgresql+psycopg", "postgresql"
        )

    def redis(self) -> Any:
        import redis

        return redis.Redis.from_url(self.system.config.redis_url, decode_responses=True)


def capstone_pids(prefix: str) -> list[int]:
    """Every process whose environment carries this run's key prefix: the services it started."""
    marker = f"KEY_PREFIX={prefix}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if marker in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.fixture
def find_capstone_pids() -> Callable[[str], list[int]]:
    return capstone_pids


def _drop_orphans(admin_url: str) -> None:
    """Databases of earlier runs that were killed before they could clean up."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        for (name,) in conn.execute("SELECT datname FROM pg_database").fetchall():
            match = ORPHAN.match(name)
            if match and not Path(f"/proc/{match['pid']}").exists():
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@contextmanager
def running_shop(
    folder: Path, *, replicas: dict[str, int] | None = None, env: dict[str, str] | None = None
) -> Iterator[Shop]:
    """A shop of its own in ``folder`` (its log and spans), with ``replicas`` instances and
    ``env`` settings on top of the test settings; everything is dropped at the end."""
    from capstone.pieces import mine
    from capstone.runner import Capstone, Config, Ports

    postgres_url = require_service("postgres")
    redis_url = require_service("redis")
    _drop_orphans(postgres_url)
    prefix = f"shoptest_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    log_path = folder / "services.log"
    trace_path = folder / "spans.jsonl"
    config = Config(
        ports=Ports.free(),
        db_prefix=prefix,
        key_prefix=prefix,
        events_stream=f"{prefix}:orders.events",
        postgres_url=postgres_url,
        redis_url=redis_url,
        # the reference pieces, unless CAPSTONE_MINE names some (the `up --mine` path)
        mine=tuple(sorted(mine())),
        replicas=replicas or {},
        env={
            "RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT),
            "LOGIN_PER_CLIENT_PER_MINUTE": GENEROUS,
            "REGISTER_PER_CLIENT_PER_MINUTE": GENEROUS,
            "BODY_TIMEOUT_SECONDS": "2",  # slow requests are cut off: short, to test it fast
            "HEADER_TIMEOUT_SECONDS": "2",
            "IDEMPOTENCY_WAIT_SECONDS": "4",
            "OUTBOX_POLL_SECONDS": "0.2",
            "TRACE_FILE": str(trace_path),
            **(env or {}),
        },
    )
    log = log_path.open("w")
    system = Capstone(config, output=log)
    try:
        system.up(timeout=90.0)
        from capstone.gateway.admin import ensure_admin  # what `journey capstone admin` runs

        ensure_admin(config.database_url("gateway"), *ADMIN)
        yield Shop(
            system=system,
            gateway=config.url("gateway"),
            prefix=prefix,
            log_path=log_path,
            trace_path=trace_path,
        )
    finally:
        system.stop()
        system.drop_databases()
        system.clear_redis()
        log.close()


@pytest.fixture(scope="session")
def start_shop() -> Callable[..., AbstractContextManager[Shop]]:
    """``with start_shop(folder, replicas=..., env=...) as shop:`` a private shop."""
    return running_shop


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    with running_shop(tmp_path_factory.mktemp("capstone")) as running:
        yield running
