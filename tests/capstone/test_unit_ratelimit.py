"""The gateway's rate limits on real Redis: lesson 08's piece counts (its own tests check the
sliding window), the gateway's glue picks the limits and answers a refusal with a 429."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis

from capstone.common.problems import Problem
from capstone.gateway.ratelimit import RateLimits
from capstone.gateway.settings import GatewaySettings

pytestmark = pytest.mark.redis


def _settings(prefix: str, **limits: int) -> GatewaySettings:
    return GatewaySettings(
        jwt_secret="j" * 40,  # type: ignore[arg-type]
        internal_token="t" * 40,  # type: ignore[arg-type]
        key_prefix=prefix,
        **limits,  # type: ignore[arg-type]
    )


async def _refused(call: Any) -> Problem:
    with pytest.raises(Problem) as refused:
        await call
    return refused.value


def test_orders_are_limited_per_user_with_retry_after_and_refusals_not_kept(redis_space: Any):
    async def scenario() -> None:
        redis = aioredis.from_url(redis_space.url)
        try:
            limits = RateLimits(redis, _settings(redis_space.prefix, rate_limit_per_minute=2))
            await limits.order("alice")
            await limits.order("alice")
            await limits.order("bob")  # a window per user
            for _ in range(3):
                problem = await _refused(limits.order("alice"))
                assert problem.status == 429
                assert 1 <= int(problem.headers["Retry-After"]) <= 60
                assert "at most 2 order requests a minute" in problem.detail
            key = f"{redis_space.prefix}:ratelimit:orders:alice"
            assert await redis.zcard(key) == 2, "refused requests are not kept"
            assert 0 < await redis.pttl(key) <= 60_000
        finally:
            await redis.aclose()

    asyncio.run(scenario())


def test_logins_are_limited_per_client_per_account_from_it_and_per_account(redis_space: Any):
    settings = _settings(
        redis_space.prefix,
        login_per_client_per_minute=4,
        rate_limit_per_minute=2,  # one account from one client
        login_per_account_per_minute=3,  # one account from every client
    )

    async def scenario() -> None:
        redis = aioredis.from_url(redis_space.url)
        try:
            limits = RateLimits(redis, settings)
            await limits.login("a@x", "10.0.0.1")
            await limits.login("a@x", "10.0.0.1")
            # refused for the account from this client, still counted for the client
            assert (await _refused(limits.login("a@x", "10.0.0.1"))).status == 429
            await limits.login("b@x", "10.0.0.1")  # the client's fourth attempt
            assert (await _refused(limits.login("c@x", "10.0.0.1"))).status == 429
            await limits.login("a@x", "10.0.0.2")  # the account's third, from elsewhere
            assert (await _refused(limits.login("a@x", "10.0.0.3"))).status == 429
            await limits.register("10.0.0.1")  # registrations are counted on their own
        finally:
            await redis.aclose()

    asyncio.run(scenario())
