"""``journey capstone bench``: the shop's speed beside a hello-world app measured in the same run.

It starts the shop the way ``journey capstone up`` does (on free ports, with databases and Redis
keys of its own, all dropped at the end), or targets a running one (``--gateway URL``). It also
starts a hello-world FastAPI app on the *same* server stack (the same uvicorn options, see
:func:`capstone.common.service.server_for`), because a figure alone says little on a shared
two-core machine: the ratio to hello world, measured minutes apart on the same machine, says how
much the shop costs over the bare server.

Then it loads, on loopback and for a bounded time each:

- hello world, ``GET /``;
- a cached product read through the gateway, ``GET /api/v1/products/{id}`` (warmed first);
- order placement through the gateway, ``POST /api/v1/orders``, each with its own
  ``Idempotency-Key``, spread over several users and products with enough stock (warmed first
  by a short load of orders from users of their own, then waiting until those are notified);

and measures the order -> notification lag of every order placed under that load, from the
timestamps the shop itself stored (the order's ``created_at``, the notification's).

The load generator is ``wrk`` when it is on PATH (a C program: it leaves the two cores to the
servers), else a built-in one (aiohttp, one coroutine per connection); the output names it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

Say = Callable[[str], None]
ROOT = Path(__file__).resolve().parent.parent
API = "/api/v1"
READ_CONNECTIONS = 32
ORDER_CONNECTIONS = 16
ORDER_WARM_SECONDS = 2.0
PRODUCTS = 8  # orders are spread over a few products, as in a shop, not all on one stock row
STOCK = 1_000_000  # per product: more than any run can sell
NOTIFICATION_WAIT_SECONDS = 30.0
PAGE_SIZE = 100  # the most a paged list gives at once
BENCH_RATE_LIMIT = 1_000_000  # a shop the bench starts counts every order, but refuses none
# what the issue asks of this shop on a two-core machine
TARGETS = {"read_ratio": 0.3, "read_p99_ms": 30.0, "orders_per_s": 250.0, "orders_p99_ms": 150.0}
TARGET_LAG_P99_MS = 250.0


# -- results -----------------------------------------------------------------------------------


@dataclass
class LoadResult:
    """What one load run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx answers and connection errors

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Lag:
    """Order -> notification lag, from the shop's own timestamps."""

    orders: int
    notified: int
    p50_ms: float
    p99_ms: float


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by the nearest-rank method; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


# -- what to send -------------------------------------------------------------------------------


@dataclass
class Target:
    """A URL to load; for orders, the users and products to spread the requests over."""

    name: str
    url: str
    connections: int
    tokens: list[str] = field(default_factory=list)  # set: POST orders, one user after another
    products: list[int] = field(default_factory=list)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @property
    def is_order(self) -> bool:
        return bool(self.tokens)

    def order_body(self, n: int) -> bytes:
        product = self.products[n % len(self.products)]
        return b'{"items": [{"product_id": %d, "quantity": 1}]}' % product

    def order_headers(self, worker: int, n: int) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.tokens[n % len(self.tokens)]}",
            "Idempotency-Key": f"bench-{self.run_id}-{worker}-{n}",
        }


# -- the load generators ------------------------------------------------------------------------


class PythonLoad:
    """One aiohttp coroutine per connection, each sending its next request as soon as the last
    one is answered, until the time is up."""

    name = "python (aiohttp, built in)"

    def run(self, target: Target, seconds: float) -> LoadResult:
        return asyncio.run(self._run(target, seconds))

    async def _run(self, target: Target, seconds: float) -> LoadResult:
        import aiohttp

        latencies: list[float] = []
        errors = 0
        connector = aiohttp.TCPConnector(limit=target.connections)
        timeout = aiohttp.ClientTimeout(total=30)
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            stop_at = loop.time() + seconds

            async def worker(number: int) -> None:
                nonlocal errors
                n = 0
                while loop.time() < stop_at:
                    n += 1
                    started = time.perf_counter()
                    try:
                        if target.is_order:
                            request = session.post(
                                target.url,
                                data=target.order_body(n),
                                headers=target.order_headers(number, n),
                            )
                        else:
                            request = session.get(target.url)
                        async with request as reply:
                            await reply.read()
                            ok = reply.status < 400
                    except (aiohttp.ClientError, TimeoutError):
                        ok = False
                    latencies.append((time.perf_counter() - started) * 1000)
                    errors += not ok

            began = time.perf_counter()
            await asyncio.gather(*(worker(i) for i in range(target.connections)))
            elapsed = time.perf_counter() - began
        return LoadResult(
            len(latencies), elapsed, percentile(latencies, 50), percentile(latencies, 99), errors
        )


WRK_ORDER_SCRIPT = """
local tokens = {%(tokens)s}
local products = {%(products)s}
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("worker", threads)
end
function request()
  counter = counter + 1
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. tokens[(counter %% #tokens) + 1]
  headers["Idempotency-Key"] = "bench-%(run_id)s-" .. worker .. "-" .. counter
  local product = products[(counter %% #products) + 1]
  local body = '{"items": [{"product_id": ' .. product .. ', "quantity": 1}]}'
  return wrk.format("POST", nil, headers, body)
end
"""
SOCKET_ERRORS = r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class WrkLoad:
    """``wrk`` with its latency distribution; a Lua script makes each order request unique."""

    def __init__(self, threads: int = 2) -> None:
        self.threads = threads
        self.name = f"wrk ({threads} threads)"

    def run(self, target: Target, seconds: float) -> LoadResult:
        threads = min(self.threads, target.connections)
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{target.connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "--latency",
        ]
        with tempfile.TemporaryDirectory() as folder:
            if target.is_order:
                script = Path(folder) / "orders.lua"
                script.write_text(
                    WRK_ORDER_SCRIPT
                    % {
                        "tokens": ", ".join(f'"{t}"' for t in target.tokens),
                        "products": ", ".join(str(p) for p in target.products),
                        "run_id": target.run_id,
                    }
                )
                command += ["-s", str(script)]
            out = subprocess.run(
                [*command, target.url], capture_output=True, text=True, timeout=seconds + 60
            )
        if out.returncode != 0:
            raise RuntimeError(f"wrk failed: {out.stderr.strip() or out.stdout.strip()}")
        return parse_wrk(out.stdout)


def parse_wrk(output: str) -> LoadResult:
    """The figures of ``wrk --latency`` output."""

    def number(pattern: str) -> str:
        found = re.search(pattern, output)
        if found is None:
            raise RuntimeError(f"unexpected wrk output (no {pattern!r}):\n{output}")
        return found.group(1)

    def millis(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
        return float(value) * UNITS_MS[unit]

    requests = int(number(r"(\d+) requests in"))
    seconds = millis(number(r"requests in ([\d.]+(?:us|ms|s|m)),")) / 1000
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(SOCKET_ERRORS, output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(int(n) for n in sockets.groups()) if sockets else 0
    return LoadResult(
        requests=requests,
        seconds=seconds,
        p50_ms=millis(number(r"50%\s+([\d.]+(?:us|ms|s|m))")),
        p99_ms=millis(number(r"99%\s+([\d.]+(?:us|ms|s|m))")),
        errors=errors,
    )


def pick_generator(name: str) -> PythonLoad | WrkLoad:
    if name == "python" or (name == "auto" and shutil.which("wrk") is None):
        return PythonLoad()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not on PATH (apt-get install wrk), or use --generator python")
    return WrkLoad()


# -- the hello-world app ------------------------------------------------------------------------


def hello_app() -> Any:
    """The baseline: FastAPI's smallest JSON answer, nothing else."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    return app


def serve_hello(host: str, port: int) -> None:
    """Serves :func:`hello_app` exactly as a shop service is served (``serve_app``)."""
    from capstone.common.service import serve_app
    from capstone.common.settings import ServiceSettings

    serve_app(hello_app(), ServiceSettings(service_host=host, service_port=port))


@contextlib.contextmanager
def hello_server(host: str = "127.0.0.1", timeout: float = 30.0) -> Iterator[str]:
    """A hello-world process on a free port, stopped with SIGTERM at the end; yields its URL."""
    from capstone.runner import free_port

    port = free_port(host)
    process = subprocess.Popen(
        [sys.executable, "-m", "capstone.bench", "hello", host, str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    url = f"http://{host}:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                stderr = process.stderr.read() if process.stderr else ""
                raise RuntimeError(f"the hello-world app did not start: {stderr[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


# -- the shop -----------------------------------------------------------------------------------


@contextlib.contextmanager
def started_shop(say: Say, timeout: float = 60.0) -> Iterator[str]:
    """The shop as ``journey capstone up`` starts it, with databases, keys and stream of its own
    (dropped at the end); its logs go to a temporary file. Yields the gateway's URL."""
    from capstone.demo import ADMIN_EMAIL, ADMIN_PASSWORD
    from capstone.gateway.admin import ensure_admin
    from capstone.runner import Capstone, Config, Ports

    prefix = f"shopbench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    config = Config(
        ports=Ports.free(),
        db_prefix=prefix,
        key_prefix=prefix,
        events_stream=f"{prefix}:orders.events",
        env={
            "RATE_LIMIT_PER_MINUTE": str(BENCH_RATE_LIMIT),
            "REGISTER_PER_CLIENT_PER_MINUTE": str(BENCH_RATE_LIMIT),
        },
    )
    log_path = Path(tempfile.gettempdir()) / f"{prefix}.log"
    with log_path.open("w") as log:
        system = Capstone(config, output=log)
        try:
            took = system.up(timeout=timeout)
            # registering never makes an admin: the operator's way, as ``journey capstone admin``
            ensure_admin(config.database_url("gateway"), ADMIN_EMAIL, ADMIN_PASSWORD)
            say(f"the shop is ready in {took:.1f}s (its logs: {log_path})")
            yield config.url("gateway")
        finally:
            system.stop()
            system.drop_databases()
            system.clear_redis()


@dataclass
class Fixture:
    """What the load needs in the shop: a product to read, users and products to order."""

    read_url: str
    tokens: list[str]
    products: list[int]
    warm_tokens: list[str]  # the warm-up's users


def prepare(gateway: str, users: int, admin: tuple[str, str]) -> Fixture:
    """Creates the products (with stock) as the admin and registers the users who order."""
    tag = uuid.uuid4().hex[:8]
    with httpx.Client(base_url=gateway.rstrip("/") + API, timeout=30.0) as http:
        admin_auth = _bearer(_token(http, *admin, register=True))
        products = []
        for n in range(PRODUCTS):
            made = http.post(
                "/products",
                json={"sku": f"bench-{tag}-{n}", "name": f"bench item {n}", "price_cents": 100},
                headers=admin_auth,
            )
            _expect(made, 201, "create a product as the admin")
            product = int(made.json()["id"])
            stocked = http.put(
                f"/products/{product}/stock", json={"quantity": STOCK}, headers=admin_auth
            )
            _expect(stocked, 200, "set the stock")
            products.append(product)
    # users of their own for the warm-up: a shop that limits orders per user (a running one,
    # --gateway) keeps the measured users' whole allowance for the measured load. Few of them:
    # such a shop also limits registrations (20 a minute from one client, the admin's included)
    warm_users = max(1, users // 8)
    emails = [f"bench-{tag}-{n}@example.com" for n in range(users + warm_users)]
    tokens = asyncio.run(_register(gateway, emails))
    return Fixture(
        f"{gateway.rstrip('/')}{API}/products/{products[0]}",
        tokens[:users],
        products,
        warm_tokens=tokens[users:],
    )


async def _register(gateway: str, emails: list[str]) -> list[str]:
    """Registers and logs in every user, a few at a time (password hashing is slow on purpose)."""
    gate = asyncio.Semaphore(4)
    async with httpx.AsyncClient(base_url=gateway.rstrip("/") + API, timeout=30.0) as http:

        async def one(email: str) -> str:
            async with gate:
                password = f"pw-{uuid.uuid4().hex}"
                made = await http.post(
                    "/auth/register", json={"email": email, "password": password}
                )
                _expect(made, 201, f"register {email}")
                token = await http.post(
                    "/auth/token", data={"username": email, "password": password}
                )
                _expect(token, 200, f"log in {email}")
                return str(token.json()["access_token"])

        return list(await asyncio.gather(*(one(email) for email in emails)))


def _token(http: httpx.Client, email: str, password: str, *, register: bool) -> str:
    if register:  # a shop the bench started has no admin yet; 409 when it exists
        http.post("/auth/register", json={"email": email, "password": password})
    reply = http.post("/auth/token", data={"username": email, "password": password})
    _expect(reply, 200, f"log in as the admin {email} (see --admin-email)")
    return str(reply.json()["access_token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _expect(reply: httpx.Response, status: int, what: str) -> None:
    if reply.status_code != status:
        raise RuntimeError(f"{what}: expected {status}, got {reply.status_code}: {reply.text}")


def warm(url: str, requests: int = 200) -> None:
    """A few requests first: connections, caches and lazy imports are ready before the clock."""
    with httpx.Client(timeout=10.0) as http:
        for _ in range(requests):
            http.get(url)


def notified_orders(
    gateway: str, tokens: list[str], wait_seconds: float
) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """Waits until every order the users placed has its notification, or the time is up;
    returns both, each id with the ``created_at`` the shop stored."""
    base = gateway.rstrip("/") + API
    with httpx.Client(base_url=base, timeout=30.0) as http:
        placed: dict[str, datetime] = {}
        for token in tokens:
            for order in _every_item(http, "/orders", token):
                placed[order["id"]] = datetime.fromisoformat(order["created_at"])
        deadline = time.monotonic() + wait_seconds
        while True:
            notified: dict[str, datetime] = {}
            for token in tokens:
                for note in _every_item(http, "/notifications", token):
                    notified[note["order_id"]] = datetime.fromisoformat(note["created_at"])
            if set(placed) <= set(notified) or time.monotonic() > deadline:
                return placed, notified
            time.sleep(0.5)


def notification_lag(gateway: str, tokens: list[str], wait_seconds: float) -> Lag:
    """Each order's lag, measured from the shop's timestamps: order ``created_at`` ->
    notification ``created_at`` (once every order is notified, or the time is up)."""
    placed, notified = notified_orders(gateway, tokens, wait_seconds)
    lags = [(notified[o] - at).total_seconds() * 1000 for o, at in placed.items() if o in notified]
    return Lag(len(placed), len(lags), percentile(lags, 50), percentile(lags, 99))


def _every_item(http: httpx.Client, path: str, token: str) -> list[dict[str, Any]]:
    """Every item of a paged list (``{"items": [...], "next_cursor": ...}``), page by page."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": PAGE_SIZE}
    while True:
        reply = http.get(path, params=params, headers=_bearer(token))
        _expect(reply, 200, f"GET {path}")
        page = reply.json()
        items += page["items"]
        if not page.get("next_cursor"):
            return items
        params = {"limit": PAGE_SIZE, "cursor": page["next_cursor"]}


# -- the run ------------------------------------------------------------------------------------


@dataclass
class Report:
    generator: str
    seconds: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    hello: LoadResult
    read: LoadResult
    orders: LoadResult
    lag: Lag

    def lines(self) -> list[str]:
        hello = self.hello.per_second or 1.0

        def row(name: str, conns: int, r: LoadResult) -> str:
            return (
                f"{name:<28} {conns:>5} {r.per_second:>10.1f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f}"
                f" {r.per_second / hello:>8.2f}x {r.errors:>7}"
            )

        lag = self.lag
        return [
            f"load generator: {self.generator}, {self.seconds:g} s per load, on loopback",
            "load average: before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
                *self.load_before, *self.load_after
            ),
            f"{'':<28} {'conns':>5} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8}"
            f" {'vs hello':>9} {'errors':>7}",
            row("hello world (same stack)", READ_CONNECTIONS, self.hello),
            row("cached product read", READ_CONNECTIONS, self.read),
            row("order placement", ORDER_CONNECTIONS, self.orders),
            f"{'order -> notification lag':<28} {'':>5} {'':>10} {lag.p50_ms:>8.1f}"
            f" {lag.p99_ms:>8.1f}   ({lag.notified} of {lag.orders} orders notified)",
            self.verdict(),
        ]

    def verdict(self) -> str:
        ratio = self.read.per_second / (self.hello.per_second or 1.0)
        checks = [
            ratio >= TARGETS["read_ratio"] and self.read.p99_ms <= TARGETS["read_p99_ms"],
            self.orders.per_second >= TARGETS["orders_per_s"]
            and self.orders.p99_ms <= TARGETS["orders_p99_ms"],
            self.lag.p99_ms <= TARGET_LAG_P99_MS and self.lag.notified == self.lag.orders,
        ]
        words = ["met" if ok else "MISSED" for ok in checks]
        return (
            f"targets (2 cores): read >= 0.3x hello, p99 <= 30 ms: {words[0]}; "
            f">= 250 orders/s, p99 <= 150 ms: {words[1]}; lag p99 <= 250 ms: {words[2]}"
        )


def run_bench(
    gateway: str | None,
    *,
    seconds: float = 10.0,
    users: int = ORDER_CONNECTIONS,
    generator: str = "auto",
    admin: tuple[str, str] | None = None,
    say: Say = print,
) -> Report:
    """The whole bench; prints its report with ``say`` and returns it."""
    from capstone.demo import ADMIN_EMAIL, ADMIN_PASSWORD

    load = pick_generator(generator)
    load_before = os.getloadavg()
    with contextlib.ExitStack() as stack:
        if gateway is None:
            gateway = stack.enter_context(started_shop(say))
        hello_url = stack.enter_context(hello_server())
        fixture = prepare(gateway, users, admin or (ADMIN_EMAIL, ADMIN_PASSWORD))
        say(f"loading each for {seconds:g}s with {load.name}...")
        warm(hello_url)
        hello = load.run(Target("hello", hello_url, READ_CONNECTIONS), seconds)
        warm(fixture.read_url)
        read = load.run(Target("read", fixture.read_url, READ_CONNECTIONS), seconds)

        def order_target(tokens: list[str]) -> Target:  # each with a run id: its keys are new
            return Target(
                "orders",
                f"{gateway.rstrip('/')}{API}/orders",
                ORDER_CONNECTIONS,
                tokens=tokens,
                products=fixture.products,
            )

        # as the reads are warmed: every service's pools full and the order path's statements
        # prepared before the clock, by users of their own; then the clock waits until the
        # shop has notified those orders (their relay and notifier work would otherwise run
        # inside the measured load)
        load.run(order_target(fixture.warm_tokens), ORDER_WARM_SECONDS)
        placed, notified = notified_orders(gateway, fixture.warm_tokens, NOTIFICATION_WAIT_SECONDS)
        if waiting := len(placed.keys() - notified.keys()):
            say(f"warning: {waiting} warm-up orders not notified yet; the load shares their work")
        orders = load.run(order_target(fixture.tokens), seconds)
        lag = notification_lag(gateway, fixture.tokens, NOTIFICATION_WAIT_SECONDS)
        report = Report(load.name, seconds, load_before, os.getloadavg(), hello, read, orders, lag)
    for line in report.lines():
        say(line)
    return report


if __name__ == "__main__":
    # ``python -m capstone.bench hello HOST PORT``: the baseline app, for hello_server()
    if len(sys.argv) == 4 and sys.argv[1] == "hello":
        serve_hello(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit("usage: python -m capstone.bench hello HOST PORT (see `journey capstone bench`)")
