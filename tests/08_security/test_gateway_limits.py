"""08.9 Gateway piece 2: an atomic sliding-window limiter and a login throttle in Redis.

Each test runs in its own event loop with its own async Redis client, and writes only under
its own key prefix (`redis_space`), which is emptied when the test ends.
"""

from __future__ import annotations

import asyncio

import pytest

from journey.pytest_plugin import RedisSpace
from journey.targets import load

limits = load(__file__, "gateway_limits")


def run(redis_space: RedisSpace, scenario, *, connections: int = 8):
    """Runs `scenario(client)` with an async Redis client that is always closed."""
    import redis.asyncio as aioredis

    async def main():
        client = aioredis.Redis.from_url(redis_space.url, max_connections=connections)
        try:
            async with asyncio.timeout(20):
                return await scenario(client)
        finally:
            await client.aclose()

    return asyncio.run(main())


def limiter(client, redis_space: RedisSpace, clock, limit: int = 3, window: float = 10):
    return limits.SlidingWindowLimiter(
        client, prefix=redis_space.key("rl"), limit=limit, window_seconds=window, clock=clock
    )


def test_exactly_limit_requests_pass_in_a_window(redis_space: RedisSpace, clock) -> None:
    async def scenario(client):
        rl = limiter(client, redis_space, clock, limit=3)
        return [await rl.hit("orders", "u1") for _ in range(5)]

    decisions = run(redis_space, scenario)
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0, 0]
    assert all(d.limit == 3 for d in decisions)


def test_the_window_slides_and_says_when_to_retry(redis_space: RedisSpace, clock) -> None:
    async def scenario(client):
        rl = limiter(client, redis_space, clock, limit=3, window=10)
        seen = []
        for _ in range(3):  # at t = 0, 1, 2
            seen.append(await rl.hit("k"))
            clock.advance(1)
        seen.append(await rl.hit("k"))  # t = 3: full
        clock.advance(6.999)  # t = 9.999: the t=0 hit is still inside (t - 10, t]
        seen.append(await rl.hit("k"))
        clock.advance(0.001)  # t = 10: the t=0 hit has just left
        seen.append(await rl.hit("k"))
        seen.append(await rl.hit("k"))  # t = 10: full again (hits at 1, 2, 10)
        return seen

    seen = run(redis_space, scenario)
    assert [d.allowed for d in seen] == [True, True, True, False, False, True, False]
    assert seen[3].retry_after == pytest.approx(7.0), (
        "refused at t=3: the oldest counted hit (t=0) leaves at t=10, so retry after 7 s"
    )
    assert seen[4].retry_after == pytest.approx(0.001, abs=1e-6)
    assert seen[6].retry_after == pytest.approx(1.0), "now the oldest is the t=1 hit"


def test_refused_requests_are_not_counted(redis_space: RedisSpace, clock) -> None:
    async def scenario(client):
        rl = limiter(client, redis_space, clock, limit=2, window=10)
        await rl.hit("k")
        await rl.hit("k")
        for _ in range(8):  # a client that keeps knocking, once a second
            clock.advance(1)
            await rl.hit("k")
        clock.advance(2)  # t = 10: both counted hits have left the window
        return await rl.hit("k")

    assert run(redis_space, scenario).allowed, (
        "only allowed requests count: refusals must not push the lock-out further away"
    )


def test_requests_in_the_same_millisecond_all_count(redis_space: RedisSpace, clock) -> None:
    async def scenario(client):
        rl = limiter(client, redis_space, clock, limit=3)
        return [(await rl.hit("k")).allowed for _ in range(4)]  # the clock does not move

    assert run(redis_space, scenario) == [True, True, True, False], (
        "two requests at the same time are two requests: members must be unique, not the time"
    )


def test_keys_are_separate_and_prefixed(redis_space: RedisSpace, clock) -> None:
    async def scenario(client):
        rl = limiter(client, redis_space, clock, limit=1)
        first = [await rl.hit("a:b", "c"), await rl.hit("a", "b:c"), await rl.hit("a", "b", "c")]
        keys = sorted(k.decode() for k in await client.keys(f"{redis_space.prefix}*"))
        ttls = [await client.pttl(k) for k in keys]
        return first, keys, ttls

    first, keys, ttls = run(redis_space, scenario)
    assert [d.allowed for d in first] == [True, True, True], (
        "('a:b', 'c'), ('a', 'b:c') and ('a', 'b', 'c') are three different keys: encode each "
        "part (urllib.parse.quote(part, safe='')) before joining with ':'"
    )
    assert len(keys) == 3, keys
    assert all(k.startswith(redis_space.key("rl") + ":") for k in keys), keys
    for ttl in ttls:
        assert 0 < ttl <= 10_000, "each key expires by itself once its window is over"


def test_fifty_concurrent_callers_exactly_ten_pass(redis_space: RedisSpace, clock) -> None:
    async def scenario(client):
        rl = limiter(client, redis_space, clock, limit=10, window=60)
        decisions = await asyncio.gather(*(rl.hit("hot") for _ in range(50)))
        counted = await client.zcard(rl.key("hot"))
        return decisions, counted

    decisions, counted = run(redis_space, scenario, connections=50)
    allowed = sum(d.allowed for d in decisions)
    assert allowed == 10, (
        f"{allowed} of 50 concurrent callers passed a limit of 10: reading the count and adding "
        "the request must be one atomic step (a Lua script), or they all read 'room left'"
    )
    assert counted == 10, "exactly the allowed requests are in the window"


def test_two_limiters_in_two_processes_share_the_count(redis_space: RedisSpace, clock) -> None:
    async def scenario(client):
        gateway_a = limiter(client, redis_space, clock, limit=4)
        gateway_b = limiter(client, redis_space, clock, limit=4)
        return [(await (gateway_a if i % 2 else gateway_b).hit("u1")).allowed for i in range(6)]

    assert run(redis_space, scenario) == [True] * 4 + [False] * 2, (
        "the count lives in Redis, so every gateway instance sees the same one"
    )


def test_bad_limits_are_refused(redis_space: RedisSpace) -> None:
    async def scenario(client):
        with pytest.raises(ValueError, match="limit"):
            limits.SlidingWindowLimiter(client, prefix="p", limit=0, window_seconds=1)
        with pytest.raises(ValueError, match="window"):
            limits.SlidingWindowLimiter(client, prefix="p", limit=1, window_seconds=0)
        one = limits.SlidingWindowLimiter(
            client, prefix=redis_space.key("one"), limit=1, window_seconds=1
        )
        return [(await one.hit("k")).allowed, (await one.hit("k")).allowed]

    assert run(redis_space, scenario) == [True, False], "limit=1 is the smallest valid limit"


# -- the login throttle -------------------------------------------------------------------


def throttle(client, redis_space: RedisSpace, clock, per_client=20, per_account=5):
    return limits.LoginThrottle(
        client,
        prefix=redis_space.key("login"),
        per_client=per_client,
        per_account=per_account,
        window_seconds=60,
        clock=clock,
    )


def test_sixty_guesses_from_one_client_do_not_lock_the_user_out(
    redis_space: RedisSpace, clock
) -> None:
    async def scenario(client):
        guard = throttle(client, redis_space, clock, per_client=100, per_account=5)
        attacker = [
            (await guard.attempt("alice@shop.example", "203.0.113.9")).allowed for _ in range(60)
        ]
        alice = await guard.attempt("alice@shop.example", "198.51.100.7")
        return attacker, alice

    attacker, alice = run(redis_space, scenario)
    assert attacker[:5] == [True] * 5, "five guesses at one account from one address pass"
    assert not any(attacker[5:]), "the sixth guess at alice from the same address is refused"
    assert alice.allowed, (
        "alice, from her own address, must still get in: limit per account AND address, never "
        "per account alone, or anybody can lock anybody out"
    )


def test_one_client_spraying_many_accounts_is_stopped(redis_space: RedisSpace, clock) -> None:
    async def scenario(client):
        guard = throttle(client, redis_space, clock, per_client=20, per_account=5)
        sprayed = [
            (await guard.attempt(f"user{i}@shop.example", "203.0.113.9")).allowed for i in range(25)
        ]
        elsewhere = await guard.attempt("user1@shop.example", "198.51.100.7")
        return sprayed, elsewhere

    sprayed, elsewhere = run(redis_space, scenario)
    assert sprayed == [True] * 20 + [False] * 5, (
        "at most per_client attempts from one address, whatever accounts it tries"
    )
    assert elsewhere.allowed, "another address is not affected"


def test_the_throttle_forgets_after_the_window(redis_space: RedisSpace, clock) -> None:
    async def scenario(client):
        guard = throttle(client, redis_space, clock, per_client=20, per_account=2)
        for _ in range(3):
            await guard.attempt("bob", "10.0.0.1")
        refused = await guard.attempt("bob", "10.0.0.1")
        clock.advance(60)
        return refused, await guard.attempt("bob", "10.0.0.1")

    refused, later = run(redis_space, scenario)
    assert not refused.allowed
    assert refused.retry_after > 0, "a refusal says when to retry"
    assert later.allowed, "after the window, attempts are allowed again"
