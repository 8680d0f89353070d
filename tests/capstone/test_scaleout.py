"""Several instances of catalog, orders and notifier (lesson 06): each registers itself, the
gateway balances over them, and one killed under load costs no request beyond those it had in
flight. A shop of its own, started the way ``journey capstone up --replicas`` starts it."""

from __future__ import annotations

import asyncio
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

Shop = Any  # conftest.Shop: the running system and helpers to drive it
Poll = Callable[..., Any]  # conftest.wait_for: a condition waited on with a deadline

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

REPLICAS = {"catalog": 2, "orders": 2, "notifier": 2}
# short, so that a killed instance leaves the registry within the test's few seconds
REGISTRY_TTL_SECONDS = 3
READERS = 3  # threads reading products through the gateway, one request in flight each
BUYERS = 3  # threads placing orders, one request in flight each


@pytest.fixture(scope="module")
def scaled(
    tmp_path_factory: pytest.TempPathFactory, start_shop: Callable[..., Any]
) -> Iterator[Shop]:
    settings = {
        "REGISTRY_TTL_SECONDS": str(REGISTRY_TTL_SECONDS),
        "RATE_LIMIT_PER_MINUTE": "1000000",  # the buyers place orders as fast as they can
        "TRACE_FILE": "",  # no spans: the CPU goes to the load
    }
    with start_shop(tmp_path_factory.mktemp("scaleout"), replicas=REPLICAS, env=settings) as shop:
        yield shop


def registered(shop: Shop, service: str) -> set[str]:
    """The live addresses of ``service`` in the shop's registry, read straight from Redis."""
    with shop.redis() as client:
        key = f"{shop.prefix}:registry:services:{service}"
        return set(client.zrange(key, f"({time.time()}", "+inf", byscore=True))


def address(shop: Shop, name: str) -> str:
    return f"127.0.0.1:{shop.system.config.instance(name).port}"


def metric(url: str, pattern: str, headers: dict[str, str] | None = None) -> float:
    """The sum of the Prometheus samples at ``url`` whose line matches ``pattern``."""
    import httpx

    text = httpx.get(f"{url}/metrics", headers=headers, timeout=5.0).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if not line.startswith("#") and re.search(pattern, line)
    )


@dataclass
class Outcome:
    started: float
    status: int | None  # None: no answer at all
    order_id: str | None = None


@dataclass
class Load:
    """Product reads and orders through the gateway, from several threads, until stopped."""

    shop: Shop
    poll: Poll
    products: list[int]
    buyers: list[dict[str, str]]
    reads: list[Outcome] = field(default_factory=list)
    orders: list[Outcome] = field(default_factory=list)
    keys: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._read, args=(n,)) for n in range(READERS)]
        threads += [threading.Thread(target=self._buy, args=(user,)) for user in self.buyers]
        for thread in threads:
            thread.start()
        return threads

    def _read(self, n: int) -> None:
        with self.shop.client() as http:
            while not self.stop.is_set():
                # a product, then a page: the gateway keeps a product for a second (the
                # catalog's s-maxage), a page it always asks the catalog for
                pid = self.products[n % len(self.products)]
                path = f"/products/{pid}" if n % 2 else "/products?limit=10"
                n += 1
                self.reads.append(self._send(http.get, path))

    def _buy(self, user: dict[str, str]) -> None:
        body = {"items": [{"product_id": self.products[0], "quantity": 1}]}
        with self.shop.client() as http:
            while not self.stop.is_set():
                headers = {**user, "Idempotency-Key": uuid.uuid4().hex}
                self.keys += 1
                self.orders.append(self._send(http.post, "/orders", json=body, headers=headers))

    @staticmethod
    def _send(request: Callable[..., Any], path: str, **options: Any) -> Outcome:
        import httpx

        started = time.monotonic()
        try:
            reply = request(path, **options)
        except httpx.HTTPError:
            return Outcome(started, None)
        assert isinstance(reply, httpx.Response)
        order_id = reply.json().get("id") if reply.status_code == 201 else None
        return Outcome(started, reply.status_code, order_id)

    def accepted(self) -> list[str]:
        return [o.order_id for o in list(self.orders) if o.order_id is not None]

    def wait_for_more(self, reads: int, orders: int, timeout: float = 15.0) -> None:
        want = (len(self.reads) + reads, len(self.orders) + orders)
        self.poll(
            lambda: len(self.reads) >= want[0] and len(self.orders) >= want[1],
            timeout,
            f"{reads} more reads and {orders} more orders",
        )


def served(shop: Shop, name: str, route: str) -> float:
    return metric(shop.system.config.url(name), rf'route="{re.escape(route)}",.*status="20')


@pytest.mark.timeout(120)
def test_killed_instances_cost_no_request_and_get_nothing_more(scaled: Shop, poll: Poll) -> None:
    import psycopg

    from capstone.common.internal import INTERNAL_TOKEN_HEADER

    shop = scaled
    products = [shop.product(stock=1_000_000) for _ in range(3)]
    load = Load(shop, poll, products, [shop.user() for _ in range(BUYERS)])
    threads = load.run()
    try:
        load.wait_for_more(reads=60, orders=20)
        for name in ("catalog", "catalog-2"):
            assert served(shop, name, "/products") > 0, f"{name} gets reads"
        for name in ("orders", "orders-2"):
            assert served(shop, name, "/orders") > 0, f"{name} gets orders"

        killed = {"orders-2": "orders", "catalog-2": "catalog"}
        dead = {address(shop, name) for name in killed}
        killed_at = time.monotonic()
        for name in killed:
            assert shop.system.kill(name, signal.SIGKILL) == -signal.SIGKILL

        # the registry forgets them once their last heartbeat's TTL has passed
        poll(
            lambda: all(address(shop, n) not in registered(shop, s) for n, s in killed.items()),
            REGISTRY_TTL_SECONDS + 5,
            "the killed instances to leave the registry",
        )
        internal = {INTERNAL_TOKEN_HEADER: shop.system.config.internal_token}
        tried_dead = "|".join(re.escape(f'instance="http://{a}"') for a in dead)

        def failed_attempts() -> float:
            return metric(
                shop.gateway, rf"gateway_downstream_failures_total\{{.*({tried_dead})", internal
            )

        def settled() -> bool:  # no attempt on a dead instance during a stretch of load
            before = failed_attempts()
            load.wait_for_more(reads=30, orders=10)
            return failed_attempts() == before

        poll(settled, 15.0, "the gateway to stop trying the killed instances")
        after = failed_attempts()
        load.wait_for_more(reads=150, orders=30)
        assert failed_attempts() == after, "the gateway sends nothing more to a dead instance"
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(timeout=30)

    failed = [
        (kind, o)
        for kind, outcomes in (("read", load.reads), ("order", load.orders))
        for o in outcomes
        if o.status is None or o.status >= 400
    ]
    print(f"reads {len(load.reads)}, orders {len(load.orders)}, failed {failed}")
    in_flight = [o for _, o in failed if o.started < killed_at]
    assert len(in_flight) == len(failed), f"a request sent after the kill failed: {failed}"
    assert len(failed) <= READERS + BUYERS, f"more failures than requests in flight: {failed}"

    accepted = load.accepted()
    with psycopg.connect(shop.database_url("orders"), autocommit=True) as conn:
        stored = [row[0] for row in conn.execute("SELECT id FROM orders")]
    assert set(accepted) <= set(stored), "every accepted order is stored"
    assert len(stored) == len(set(stored)) <= load.keys, "no order stored twice"

    def notified() -> dict[str, int]:
        with psycopg.connect(shop.database_url("notifier"), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT order_id, count(*) FROM notifications WHERE order_id = ANY(%s)"
                " GROUP BY order_id",
                (accepted,),
            )
            return dict(rows.fetchall())

    counts = poll(lambda: (c := notified()) and len(c) == len(accepted) and c, 20.0, "notes")
    assert set(counts.values()) == {1}, "every accepted order is notified exactly once"
    with shop.redis() as client:
        consumers = client.xinfo_consumers(shop.system.config.events_stream, "notifier")
    names = {c["name"] for c in consumers}
    assert names >= {"notifier-1", "notifier-2"}, f"one group, a name per instance: {names}"


def test_an_instance_that_stops_cleanly_deregisters(scaled: Shop) -> None:
    """Gone from the registry at once, well before its registration could have expired."""
    shop = scaled
    where = address(shop, "notifier-2")
    key = f"{shop.prefix}:registry:services:notifier"
    with shop.redis() as client:
        deadline = client.zscore(key, where)
        assert deadline is not None, "registered while it runs"
        process = shop.system.processes["notifier-2"]
        process.send_signal(signal.SIGTERM)
        while (score := client.zscore(key, where)) is not None:  # a heartbeat may still extend it
            deadline = max(deadline, score)
            assert time.time() < deadline, "it stayed registered until its registration expired"
            time.sleep(0.02)  # the next look, soon: the loop ends on the condition or the assert
        removed_at = time.time()
    assert removed_at < deadline, "removed by its own deregistration, not by expiry"
    assert process.wait(timeout=15) == 0, "and it exits cleanly"
    assert where not in registered(shop, "notifier")


def test_an_instance_whose_redis_is_away_registers_once_it_is_back(tmp_path: Path) -> None:
    """It starts anyway (and is not ready), then registers within a heartbeat of Redis coming
    back; at the end it deregisters. A private Redis, started only once the instance runs."""
    import redis.asyncio as aioredis

    from capstone.chaos import PrivateRedis
    from capstone.common.discovery import registration
    from capstone.common.settings import ServiceSettings
    from capstone.runner import free_port

    later = PrivateRedis(tmp_path, free_port())
    settings = ServiceSettings(redis_url=later.url, service_port=8001, registry_ttl_seconds=0.9)
    key, where = "shop:registry:services:catalog", "127.0.0.1:8001"

    async def scenario() -> tuple[float | None, float | None]:
        client = aioredis.from_url(later.url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            async with registration("catalog", client, settings):
                await asyncio.to_thread(later.start)
                deadline = time.monotonic() + 10.0
                while (seen := await client.zscore(key, where)) is None:
                    if time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.05)  # the next look; the deadline ends the wait
            return seen, await client.zscore(key, where)
        finally:
            await client.aclose()

    try:
        registered_then, after_the_end = asyncio.run(scenario())
    finally:
        later.kill()
    assert registered_then is not None, "registered once its Redis answered"
    assert after_the_end is None, "and deregistered when the block ended"
