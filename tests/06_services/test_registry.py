"""06.3 A service registry in Redis: register, heartbeat, expire, discover."""

from __future__ import annotations

import asyncio
import time

import pytest

from journey.pytest_plugin import RedisSpace
from journey.targets import load

registry_mod = load(__file__, "registry")
ServiceRegistry = registry_mod.ServiceRegistry

A, B = "10.0.0.1:8001", "10.0.0.2:8001"
TTL = 10.0


def make(client, space: RedisSpace, clock, ttl: float = TTL):
    return ServiceRegistry(client, prefix=space.key("registry"), ttl_seconds=ttl, clock=clock)


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("ttl", [0, -1, -0.001])
def test_a_ttl_must_be_positive(ttl: float) -> None:
    with pytest.raises(ValueError, match="ttl_seconds must be positive"):
        ServiceRegistry(object(), prefix="p", ttl_seconds=ttl)


def test_the_smallest_positive_ttl_is_accepted() -> None:
    assert ServiceRegistry(object(), prefix="p", ttl_seconds=0.001).ttl_seconds == 0.001


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("10.0.0.7:8001", ("10.0.0.7", 8001)),
        ("catalog-1:80", ("catalog-1", 80)),
        ("localhost:1", ("localhost", 1)),
        ("127.0.0.1:65535", ("127.0.0.1", 65535)),
        ("[::1]:8001", ("::1", 8001)),
    ],
)
def test_parse_address_splits_host_and_port(address: str, expected: tuple[str, int]) -> None:
    assert registry_mod.parse_address(address) == expected


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.7",
        "10.0.0.7:",
        ":8001",
        "http://10.0.0.7:8001",
        "10.0.0.7:0",
        "10.0.0.7:65536",
        "10.0.0.7:http",
        "10.0.0.7:-1",
        "a b:80",
        "::1:8001",
        "",
    ],
)
def test_an_address_that_is_not_host_port_is_refused(address: str) -> None:
    with pytest.raises(ValueError, match="host:port") as refused:
        registry_mod.parse_address(address)
    assert repr(address) in str(refused.value) or address in str(refused.value), (
        "the message shows the address that was refused, so the caller can find it"
    )


def test_register_refuses_a_bad_address_or_service_name(run, async_redis, redis_space, fake_clock):
    async def main() -> None:
        async with async_redis() as (client, _):
            registry = make(client, redis_space, fake_clock)
            with pytest.raises(ValueError, match="host:port"):
                await registry.register("catalog", "http://10.0.0.1:8001")
            for name in ("", "Catalog", "cat alog", "cat:alog", "x" * 64):
                with pytest.raises(ValueError, match="service name"):
                    await registry.register(name, A)
            assert await registry.discover("catalog") == []

    run(main())


# -- register, discover, deregister ------------------------------------------------------


def test_registered_instances_are_discovered_sorted(run, async_redis, redis_space, fake_clock):
    async def main():
        async with async_redis() as (client, _):
            registry = make(client, redis_space, fake_clock)
            await registry.register("catalog", B)
            await registry.register("catalog", A)
            await registry.register("catalog", A)  # twice is still one instance
            await registry.register("orders", "10.0.0.9:8002")
            return (
                await registry.discover("catalog"),
                await registry.discover("orders"),
                await registry.discover("notifier"),
            )

    catalog, orders, notifier = run(main())
    assert catalog == [A, B], "discover returns each live address once, sorted"
    assert orders == ["10.0.0.9:8002"], "each service has its own instances"
    assert notifier == [], "a service with no instance: an empty list"


def test_other_clients_see_the_same_registry(run, async_redis, redis_space, fake_clock):
    async def main():
        async with async_redis() as (one, _), async_redis(decode=True) as (other, _):
            await make(one, redis_space, fake_clock).register("catalog", A)
            return await make(other, redis_space, fake_clock).discover("catalog")

    assert run(main()) == [A], (
        "the registry lives in Redis: what one process registers, another discovers "
        "(with or without decode_responses, addresses come back as str)"
    )


def test_deregister_removes_at_once(run, async_redis, redis_space, fake_clock):
    async def main():
        async with async_redis() as (client, _):
            registry = make(client, redis_space, fake_clock)
            await registry.register("catalog", A)
            await registry.register("catalog", B)
            first = await registry.deregister("catalog", A)
            again = await registry.deregister("catalog", A)
            return first, again, await registry.discover("catalog")

    first, again, left = run(main())
    assert (first, again) == (True, False), "True if it was registered, False the second time"
    assert left == [B]


def test_keys_live_under_the_prefix_and_expire(run, async_redis, redis_space, fake_clock):
    async def main():
        async with async_redis(decode=True) as (client, _):
            registry = make(client, redis_space, fake_clock, ttl=2.5)
            key = registry.key("catalog")
            await registry.register("catalog", A)
            after_register = (await client.type(key), await client.ttl(key))
            await client.persist(key)
            await registry.heartbeat("catalog", A)
            after_heartbeat = await client.ttl(key)
            return key, after_register, after_heartbeat, await client.zscore(key, A)

    key, (kind, ttl), ttl_after_heartbeat, score = run(main())
    assert key == f"{redis_space.key('registry')}:services:catalog"
    assert kind == "zset", "one sorted set per service: addresses scored by their deadlines"
    assert score == fake_clock() + 2.5, "the score is the deadline: clock() + ttl_seconds"
    assert 1 <= ttl <= 3, (
        "the key itself expires (EXPIRE in whole seconds, at least the TTL rounded up) so a "
        f"service whose instances all died leaves nothing behind; its TTL was {ttl}"
    )
    assert 1 <= ttl_after_heartbeat <= 3, "a heartbeat renews the key's expiry too"


# -- expiry and heartbeats -----------------------------------------------------------------


def test_an_instance_is_gone_exactly_at_its_ttl(run, async_redis, redis_space, fake_clock):
    async def main():
        async with async_redis() as (client, _):
            registry = make(client, redis_space, fake_clock)
            await registry.register("catalog", A)
            fake_clock.advance(TTL - 0.125)  # binary fractions: the sum is exactly the TTL
            just_before = await registry.discover("catalog")
            fake_clock.advance(0.125)
            at_ttl = await registry.discover("catalog")
            left_in_redis = await client.zcard(registry.key("catalog"))
            return just_before, at_ttl, left_in_redis

    just_before, at_ttl, left_in_redis = run(main())
    assert just_before == [A], "alive until its deadline"
    assert at_ttl == [], "gone once clock() reaches the deadline (alive only while now < deadline)"
    assert left_in_redis == 0, "discover also removes the expired members from Redis"


def test_heartbeats_keep_an_instance_alive(run, async_redis, redis_space, fake_clock):
    async def main():
        async with async_redis() as (client, _):
            registry = make(client, redis_space, fake_clock)
            await registry.register("catalog", A)
            await registry.register("catalog", B)
            seen = []
            for _ in range(5):  # A beats every 0.9 TTL; B fell silent after registering
                fake_clock.advance(0.9 * TTL)
                assert await registry.heartbeat("catalog", A) is True
                seen.append(await registry.discover("catalog"))
            fake_clock.advance(TTL)  # A stops too
            seen.append(await registry.discover("catalog"))
            return seen

    seen = run(main())
    assert seen[0] == [A, B], "B is still within its first TTL"
    assert seen[1:5] == [[A]] * 4, "B expired; A stays alive for as long as it heartbeats"
    assert seen[5] == [], "A is gone one TTL after its last heartbeat"


def test_a_heartbeat_does_not_bring_back_the_dead(run, async_redis, redis_space, fake_clock):
    async def main():
        async with async_redis() as (client, _):
            registry = make(client, redis_space, fake_clock)
            unknown = await registry.heartbeat("catalog", A)
            await registry.register("catalog", B)
            fake_clock.advance(TTL + 1)  # B missed its beats; nobody discovered in between
            late = await registry.heartbeat("catalog", B)
            deregistered = [await registry.register("catalog", A)]
            await registry.deregister("catalog", A)
            after_deregister = await registry.heartbeat("catalog", A)
            left = await registry.discover("catalog")
            return unknown, late, deregistered, after_deregister, left

    unknown, late, _, after_deregister, left = run(main())
    assert unknown is False, "a heartbeat for an address never registered answers False"
    assert late is False, (
        "a heartbeat after the deadline answers False, even if the expired member is still in "
        "Redis: the instance was already considered gone and must register again"
    )
    assert after_deregister is False, "a deregistered instance's heartbeat answers False"
    assert left == [], "a failed heartbeat writes nothing: no instance came back"


def test_silent_instances_disappear_in_real_time(run, async_redis, redis_space) -> None:
    """With the real clock and a short TTL: the silent instance is gone within its TTL."""
    ttl = 0.3

    async def main():
        async with async_redis() as (client, _):
            registry = ServiceRegistry(client, prefix=redis_space.key("rt"), ttl_seconds=ttl)
            await registry.register("catalog", A)
            await registry.register("catalog", B)
            registered = time.monotonic()
            while True:  # A keeps beating; wait (with a deadline) for B to disappear
                await registry.heartbeat("catalog", A)
                live = await registry.discover("catalog")
                if B not in live or time.monotonic() - registered > ttl + 5:
                    return live, time.monotonic() - registered
                await asyncio.sleep(0.02)

    live, waited = run(main())
    assert live == [A], f"B stopped heartbeating and should be gone after {ttl}s, still {live}"
    assert waited >= ttl * 0.9, f"B vanished after {waited:.2f}s, before its TTL of {ttl}s"
