"""06.6 Client-side discovery with load balancing (capstone piece).

These tests run the lesson's own registry (06.3) and strategies (06.1) under the discovery
client: finish those two first.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from journey.targets import load

discovery = load(__file__, "discovery")
registry_mod = load(__file__, "registry")
balancing = load(__file__, "balancing")

A, B, C = "10.0.0.1:8001", "10.0.0.2:8001", "10.0.0.3:8001"
TTL = 9.0


class FakeSleep:
    """A sleep for the heartbeat task: moves the fake clock instead of waiting."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance(seconds)
        await asyncio.sleep(0.001)  # let the test's own task run between beats


class FlakyRegistry:
    """Wraps a real registry; fails the chosen calls on cue."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.ttl_seconds = real.ttl_seconds
        self.fail_heartbeats = 0
        self.discover_broken = False
        self.deregister_broken = False
        self.heartbeats = 0

    async def register(self, service: str, address: str) -> None:
        await self.real.register(service, address)

    async def heartbeat(self, service: str, address: str) -> bool:
        self.heartbeats += 1
        if self.fail_heartbeats > 0:
            self.fail_heartbeats -= 1
            raise ConnectionError("Redis is away for a moment")
        return await self.real.heartbeat(service, address)

    async def deregister(self, service: str, address: str) -> bool:
        if self.deregister_broken:
            raise ConnectionError("Redis is away")
        return await self.real.deregister(service, address)

    async def discover(self, service: str) -> list[str]:
        if self.discover_broken:
            raise ConnectionError("Redis is away")
        return await self.real.discover(service)


async def wait_until(condition: Callable[[], Any], what: str, seconds: float = 5.0) -> None:
    """Polls ``condition`` (sync or async) until it holds, or fails after ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if loop.time() > deadline:
            pytest.fail(f"waited {seconds}s for {what}")
        await asyncio.sleep(0.005)


@pytest.fixture
def registry_on(redis_space, fake_clock):
    """``registry_on(client)``: the lesson's ServiceRegistry on this test's keys and fake clock."""

    def make(client: Any, ttl: float = TTL) -> Any:
        return registry_mod.ServiceRegistry(
            client, prefix=redis_space.key("registry"), ttl_seconds=ttl, clock=fake_clock
        )

    return make


def lease_counts(results: list[Any]) -> Counter[str]:
    return Counter(lease.address for lease in results)


# -- Registration ---------------------------------------------------------------------------


def test_registration_heartbeats_while_running_and_leaves_at_stop(
    run, async_redis, registry_on, fake_clock
) -> None:
    sleep = FakeSleep(fake_clock)

    async def main():
        async with async_redis() as (client, _):
            registry = registry_on(client)
            registration = discovery.Registration(registry, "catalog", A, sleep=sleep)
            async with registration:
                at_start = await registry.discover("catalog")
                running = registration.running
                started = fake_clock()
                await wait_until(lambda: fake_clock() > started + 5 * TTL, "five TTLs to pass")
                still_there = await registry.discover("catalog")
            after = await registry.discover("catalog")
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            return at_start, running, still_there, after, registration.running, others

    at_start, running, still_there, after, running_after, others = run(main())
    assert at_start == [A], "start registers the instance before it returns"
    assert running is True
    assert sleep.calls[0] == pytest.approx(TTL / 3), "beats every ttl/3 by default"
    assert still_there == [A], (
        "five TTLs later it is still registered: the background task heartbeats every interval"
    )
    assert after == [], "stop (leaving `async with`) deregisters at once: no wait for the TTL"
    assert running_after is False
    assert others == [], "stop cancels the heartbeat task and waits for it: no task left behind"


def test_registration_registers_again_when_it_finds_itself_gone(
    run, async_redis, registry_on, fake_clock
) -> None:
    async def main():
        async with async_redis() as (client, _):
            registry = registry_on(client)
            async with discovery.Registration(
                registry, "catalog", A, interval_seconds=1.0, sleep=FakeSleep(fake_clock)
            ):
                await registry.deregister("catalog", A)  # as if it had expired
                await wait_until(
                    lambda: registry.discover("catalog"), "the instance to register again"
                )
                return await registry.discover("catalog")

    assert run(main()) == [A], "a heartbeat that answers False is followed by register()"


def test_a_failing_heartbeat_does_not_stop_the_task(
    run, async_redis, registry_on, fake_clock
) -> None:
    async def main():
        async with async_redis() as (client, _):
            flaky = FlakyRegistry(registry_on(client))
            flaky.fail_heartbeats = 2
            registration = discovery.Registration(
                flaky, "catalog", A, interval_seconds=1.0, sleep=FakeSleep(fake_clock)
            )
            async with registration:
                await wait_until(lambda: flaky.heartbeats >= 6, "six heartbeats")
                return registration.running, await flaky.discover("catalog")

    running, found = run(main())
    assert running is True, "two failed beats (Redis away for a moment) must not end the task"
    assert found == [A]


def test_registration_checks_its_interval(registry_on) -> None:
    registry = registry_on(object())
    for bad in (0, -1, TTL, TTL + 1):
        with pytest.raises(ValueError, match="interval_seconds"):
            discovery.Registration(registry, "catalog", A, interval_seconds=bad)
    ok = discovery.Registration(registry, "catalog", A, interval_seconds=TTL - 0.01)
    assert ok.interval_seconds == TTL - 0.01, "anything shorter than the TTL is fine"
    assert discovery.Registration(registry, "catalog", A).interval_seconds == TTL / 3


def test_a_registration_that_cannot_register_does_not_start(
    run, async_redis, registry_on, fake_clock
) -> None:
    async def main():
        async with async_redis() as (client, _):
            registration = discovery.Registration(
                registry_on(client), "catalog", "not-an-address", sleep=FakeSleep(fake_clock)
            )
            with pytest.raises(ValueError, match="host:port"):
                await registration.start()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            await registration.stop()  # nothing to stop: no error
            return registration.running, others

    running, others = run(main())
    assert running is False
    assert others == [], "no heartbeat task when the first register failed"


def test_stop_survives_a_failed_deregister_and_can_be_called_twice(
    run, async_redis, registry_on, fake_clock
) -> None:
    async def main():
        async with async_redis() as (client, _):
            flaky = FlakyRegistry(registry_on(client))
            registration = discovery.Registration(flaky, "catalog", A, sleep=FakeSleep(fake_clock))
            await registration.stop()  # before start: nothing happens
            await registration.start()
            flaky.deregister_broken = True
            await registration.stop()
            await registration.stop()
            return registration.running

    assert run(main()) is False, "a failed deregister is logged; the TTL removes it anyway"


# -- DiscoveryClient ------------------------------------------------------------------------


def make_client(registry: Any, fake_clock, **options: Any) -> Any:
    options.setdefault("balancer_factory", balancing.RoundRobin)
    return discovery.DiscoveryClient(registry, clock=fake_clock, **options)


async def register_all(registry: Any, service: str, *addresses: str) -> None:
    for address in addresses:
        await registry.register(service, address)


def test_leases_spread_over_every_registered_instance(
    run, async_redis, registry_on, fake_clock
) -> None:
    async def main():
        async with async_redis() as (client, _):
            registry = registry_on(client)
            await register_all(registry, "catalog", A, B, C)
            dc = make_client(registry, fake_clock)
            leases = []
            for _ in range(300):
                lease = await dc.acquire("catalog")
                dc.release(lease, ok=True)
                leases.append(lease)
            return leases

    leases = run(main())
    assert lease_counts(leases) == {A: 100, B: 100, C: 100}, "round robin over the instances"
    assert {lease.service for lease in leases} == {"catalog"}
    assert leases[0].base_url == f"http://{leases[0].address}"


def test_the_registry_is_read_once_per_cache_period(
    run, async_redis, registry_on, fake_clock
) -> None:
    async def main():
        async with async_redis() as (client, trips):
            registry = registry_on(client)
            await register_all(registry, "catalog", A, B)
            dc = make_client(registry, fake_clock, cache_seconds=1.0)
            trips.count = 0
            for _ in range(50):
                dc.release(await dc.acquire("catalog"), ok=True)
            within = trips.count
            await registry.register("catalog", C)
            trips.count = 0
            fake_clock.advance(0.75)
            seen_before = {(await dc.acquire("catalog")).address for _ in range(6)}
            fake_clock.advance(0.25)
            seen_after = {(await dc.acquire("catalog")).address for _ in range(6)}
            return within, seen_before, seen_after, trips.count

    within, seen_before, seen_after, later_trips = run(main())
    assert within == 1, (
        f"50 leases within the cache period cost {within} Redis round trips: read the registry "
        "once, then serve the cached snapshot"
    )
    assert seen_before == {A, B}, "C registered, but the snapshot is still fresh: not seen yet"
    assert seen_after == {A, B, C}, "once cache_seconds have passed, the registry is read again"
    assert later_trips == 1, "one round trip to refresh the snapshot"


def test_concurrent_leases_on_a_cold_cache_read_the_registry_once(
    run, async_redis, registry_on, fake_clock
) -> None:
    async def main():
        async with async_redis() as (client, trips):
            registry = registry_on(client)
            await register_all(registry, "catalog", A, B)
            dc = make_client(registry, fake_clock)
            trips.count = 0
            leases = await asyncio.gather(*(dc.acquire("catalog") for _ in range(20)))
            return trips.count, leases

    count, leases = run(main())
    assert count == 1, (
        f"20 requests arriving at once on an empty cache made {count} Redis round trips: the "
        "first one reads the registry, the others wait for it (an asyncio.Lock per service, "
        "then look at the cache again)"
    )
    assert lease_counts(leases) == {A: 10, B: 10}


def test_cache_seconds_zero_reads_every_time(run, async_redis, registry_on, fake_clock) -> None:
    async def main():
        async with async_redis() as (client, trips):
            registry = registry_on(client)
            await register_all(registry, "catalog", A)
            dc = make_client(registry, fake_clock, cache_seconds=0)
            trips.count = 0
            for _ in range(3):
                dc.release(await dc.acquire("catalog"), ok=True)
            return trips.count

    assert run(main()) == 3, "cache_seconds=0 (the smallest valid value) means no cache"


def test_failing_instances_are_skipped_until_the_cooldown_ends(
    run, async_redis, registry_on, fake_clock
) -> None:
    async def main():
        async with async_redis() as (client, _):
            registry = registry_on(client)
            await register_all(registry, "catalog", A, B, C)
            dc = make_client(registry, fake_clock, failure_threshold=2, cooldown_seconds=30)
            for _ in range(2):
                dc.release(discovery.Lease("catalog", A), ok=False)
            unhealthy = dc.unhealthy("catalog")
            during = [await dc.acquire("catalog") for _ in range(100)]
            for lease in during:
                dc.release(lease, ok=True)
            fake_clock.advance(30)
            await register_all(registry, "catalog", A, B, C)  # they heartbeat meanwhile
            after = [await dc.acquire("catalog") for _ in range(99)]
            return unhealthy, during, dc.unhealthy("catalog"), after

    unhealthy, during, unhealthy_after, after = run(main())
    assert unhealthy == {A}, "two failures in a row (failure_threshold=2) make A unhealthy"
    assert lease_counts(during)[A] == 0, "an unhealthy instance gets nothing"
    assert lease_counts(during) == {B: 50, C: 50}, "the others share its traffic"
    assert unhealthy_after == set(), "after cooldown_seconds it is tried again"
    assert lease_counts(after) == {A: 33, B: 33, C: 33}


def test_a_success_resets_the_failure_count(run, async_redis, registry_on, fake_clock) -> None:
    async def main():
        async with async_redis() as (client, _):
            registry = registry_on(client)
            await register_all(registry, "catalog", A, B)
            dc = make_client(registry, fake_clock, failure_threshold=2)
            for ok in (False, True, False, True, False):
                dc.release(discovery.Lease("catalog", A), ok=ok)
            return dc.unhealthy("catalog")

    assert run(main()) == set(), "failures that are not in a row do not make A unhealthy"


def test_failure_threshold_one_makes_one_failure_enough(
    run, async_redis, registry_on, fake_clock
) -> None:
    async def main():
        async with async_redis() as (client, _):
            registry = registry_on(client)
            await register_all(registry, "catalog", A, B)
            dc = make_client(registry, fake_clock, failure_threshold=1, cooldown_seconds=5)
            lease = await dc.acquire("catalog")
            dc.release(lease, ok=False)
            return lease.address, dc.unhealthy("catalog")

    address, unhealthy = run(main())
    assert unhealthy == {address}, "failure_threshold=1: one failure is enough"


def test_the_lease_block_reports_the_outcome(run, async_redis, registry_on, fake_clock) -> None:
    async def main():
        async with async_redis() as (client, _):
            registry = registry_on(client)
            await register_all(registry, "catalog", A, B)
            made: list[Any] = []

            def factory() -> Any:
                made.append(balancing.LeastConnections())
                return made[-1]

            dc = make_client(registry, fake_clock, balancer_factory=factory, failure_threshold=1)
            async with dc.lease("catalog") as fine:
                in_flight = made[0].in_flight(fine.address)
            with pytest.raises(RuntimeError, match="connection reset"):
                async with dc.lease("catalog") as broken:
                    raise RuntimeError("connection reset")
            counts = {address: made[0].in_flight(address) for address in (A, B)}
            return fine, in_flight, broken, counts, dc.unhealthy("catalog"), len(made)

    fine, in_flight, broken, counts, unhealthy, balancers = run(main())
    assert in_flight == 1, "inside the block the lease counts as a request in flight"
    assert counts == {A: 0, B: 0}, "the lease is released after the block, even when it raised"
    assert broken.address != fine.address
    assert unhealthy == {broken.address}, (
        "an exception escaping the block counts as a failure (and goes on up); a normal exit "
        "as a success"
    )
    assert balancers == 1, "one balancer per service, made once"


def test_a_cancelled_call_says_nothing_about_the_instance(
    run, async_redis, registry_on, fake_clock
) -> None:
    async def main():
        async with async_redis() as (client, _):
            registry = registry_on(client)
            await register_all(registry, "catalog", A)
            made: list[Any] = []

            def factory() -> Any:
                made.append(balancing.LeastConnections())
                return made[-1]

            dc = make_client(registry, fake_clock, balancer_factory=factory, failure_threshold=1)
            entered = asyncio.Event()

            async def slow_call() -> None:
                async with dc.lease("catalog"):
                    entered.set()
                    await asyncio.sleep(3600)

            task = asyncio.create_task(slow_call())
            await entered.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return dc.unhealthy("catalog"), made[0].in_flight(A)

    unhealthy, in_flight = run(main())
    assert unhealthy == set(), (
        "the caller gave up (cancelled): that is not the instance's failure, do not count it"
    )
    assert in_flight == 0, "but the lease is released"


def test_each_service_has_its_own_balancer(run, async_redis, registry_on, fake_clock) -> None:
    async def main():
        async with async_redis() as (client, _):
            registry = registry_on(client)
            await register_all(registry, "catalog", A, B)
            await register_all(registry, "orders", C, "10.0.0.4:8002")
            dc = make_client(registry, fake_clock)
            picks = []
            for _ in range(4):
                picks.append((await dc.acquire("catalog")).address)
                await dc.acquire("orders")
            return picks

    assert run(main()) == [A, B, A, B], (
        "calls to orders must not move catalog's round robin: one balancer per service"
    )


def test_no_instance_available_says_why(run, async_redis, registry_on, fake_clock) -> None:
    async def main():
        async with async_redis() as (client, _):
            registry = registry_on(client)
            dc = make_client(registry, fake_clock, failure_threshold=1, cache_seconds=0)
            with pytest.raises(discovery.NoInstanceAvailable) as none:
                await dc.acquire("catalog")
            await register_all(registry, "catalog", A, B)
            for address in (A, B):
                dc.release(discovery.Lease("catalog", address), ok=False)
            with pytest.raises(discovery.NoInstanceAvailable) as failing:
                await dc.acquire("catalog")
            return none.value, failing.value

    none, failing = run(main())
    assert str(none) == "catalog: no instance is registered"
    assert none.service == "catalog"
    assert str(failing) == "catalog: all 2 instances are failing"
    assert isinstance(failing, LookupError)


def test_a_registry_outage_serves_the_last_snapshot(
    run, async_redis, registry_on, fake_clock
) -> None:
    async def main():
        async with async_redis() as (client, _):
            flaky = FlakyRegistry(registry_on(client))
            await register_all(flaky, "catalog", A, B)
            dc = make_client(flaky, fake_clock, cache_seconds=1)
            await dc.acquire("catalog")
            flaky.discover_broken = True
            fake_clock.advance(5)
            during = {(await dc.acquire("catalog")).address for _ in range(4)}
            cold = make_client(flaky, fake_clock)
            with pytest.raises(discovery.NoInstanceAvailable) as failed:
                await cold.acquire("catalog")
            return during, failed.value

    during, failed = run(main())
    assert during == {A, B}, "Redis is away: the last snapshot (stale) beats no answer at all"
    assert str(failed) == "catalog: the registry cannot be reached"
    assert isinstance(failed.__cause__, ConnectionError), "raise ... from the registry's error"


@pytest.mark.parametrize(
    "options",
    [
        {"cache_seconds": -0.1},
        {"failure_threshold": 0},
        {"cooldown_seconds": 0},
        {"cooldown_seconds": -1},
    ],
)
def test_bad_settings_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(options))):
        discovery.DiscoveryClient(object(), balancer_factory=balancing.RoundRobin, **options)


# -- the capstone's use: several instances of a real service --------------------------------


@asynccontextmanager
async def http_instance(name: str) -> AsyncIterator[tuple[str, Any]]:
    """A tiny HTTP service on 127.0.0.1:0 that answers its name; yields (address, stop)."""
    from aiohttp import web

    async def whoami(_: web.Request) -> web.Response:
        return web.json_response({"instance": name})

    app = web.Application()
    app.router.add_get("/whoami", whoami)
    runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"{host}:{port}", runner.cleanup
    finally:
        await runner.cleanup()


def test_the_gateway_reaches_several_instances_and_routes_around_a_dead_one(
    run, async_redis, registry_on, fake_clock
) -> None:
    import httpx

    async def call(dc: Any, http: httpx.AsyncClient) -> str:
        async with dc.lease("catalog") as lease:
            reply = await http.get(f"{lease.base_url}/whoami")
            return reply.json()["instance"]

    async def main():
        async with (
            async_redis() as (client, _),
            http_instance("one") as (one, _),
            http_instance("two") as (two, _),
            http_instance("three") as (three, stop_three),
            httpx.AsyncClient(timeout=2.0) as http,
        ):
            registry = registry_on(client)  # the fake clock stands still: nothing expires
            registrations = [
                discovery.Registration(registry, "catalog", address)
                for address in (one, two, three)
            ]
            for registration in registrations:
                await registration.start()
            try:
                dc = make_client(registry, fake_clock, failure_threshold=2, cooldown_seconds=60)
                before = Counter([await call(dc, http) for _ in range(30)])
                await stop_three()  # instance three crashes: still registered, not answering
                errors = 0
                after: Counter[str] = Counter()
                for _ in range(30):
                    try:
                        after[await call(dc, http)] += 1
                    except httpx.TransportError:
                        errors += 1
                return before, errors, after, dc.unhealthy("catalog"), three
            finally:
                for registration in registrations:
                    await registration.stop()

    before, errors, after, unhealthy, three = run(main())
    assert before == {"one": 10, "two": 10, "three": 10}, "three instances share the calls"
    assert errors == 2, (
        f"the dead instance should cost exactly failure_threshold (2) failed calls, cost {errors}"
    )
    assert unhealthy == {three}
    assert set(after) == {"one", "two"}, "then the live instances take every call"
    assert sum(after.values()) == 28
