"""The gateway's sliding-window rate limiter on real Redis (its check is one Lua script)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis

from capstone.common.problems import Problem
from capstone.gateway.ratelimit import RateLimiter

pytestmark = pytest.mark.redis


def test_the_limit_refuses_with_retry_after_and_does_not_count_refusals(redis_space: Any):
    async def scenario() -> None:
        redis = aioredis.from_url(redis_space.url)
        try:
            limiter = RateLimiter(redis, redis_space.prefix, per_minute=2)
            await limiter.hit("orders", "alice")
            await limiter.hit("orders", "alice")
            await limiter.hit("orders", "bob")  # a set per user
            for _ in range(3):
                with pytest.raises(Problem) as refused:
                    await limiter.hit("orders", "alice")
                assert refused.value.status == 429
                assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
            key = f"{redis_space.prefix}:ratelimit:orders:alice"
            assert await redis.zcard(key) == 2, "refused requests are not kept"
            assert 0 < await redis.pttl(key) <= 60_000
            await limiter.hit("orders", "alice", limit=3)  # a caller's own limit
        finally:
            await redis.aclose()

    asyncio.run(scenario())
