"""Rate limiting in Redis (lesson 08): a sliding one-minute window per user and action.

Each request is one member of a sorted set scored by its time in milliseconds. In one
MULTI/EXEC transaction the limiter drops members older than the window, adds this request and
counts: the count is exactly the requests of the last 60 seconds, with no burst allowed at the
edge of a fixed window. A refused request is taken out again, so a client that keeps knocking
is not locked out for longer. Every gateway instance shares the sets, because they live in
Redis.
"""

from __future__ import annotations

import math
import time
import uuid
from typing import Any

from capstone.common.problems import Problem

WINDOW_MS = 60_000


class RateLimiter:
    def __init__(self, redis: Any, prefix: str, per_minute: int) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:ratelimit"
        self.limit = per_minute

    async def hit(self, action: str, who: str, limit: int | None = None) -> None:
        """Counts one request; raises a 429 problem when over the limit (``limit`` a minute,
        or the limiter's own)."""
        limit = self.limit if limit is None else limit
        key = f"{self.prefix}:{action}:{who}"
        now_ms = int(time.time() * 1000)
        member = f"{now_ms}:{uuid.uuid4().hex}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, 0, now_ms - WINDOW_MS)
            pipe.zadd(key, {member: now_ms})
            pipe.zcard(key)
            pipe.zrange(key, 0, 0, withscores=True)
            pipe.pexpire(key, WINDOW_MS)
            _, _, count, oldest, _ = await pipe.execute()
        if int(count) <= limit:
            return
        await self.redis.zrem(key, member)
        oldest_ms = int(oldest[0][1]) if oldest else now_ms
        retry_after = max(1, math.ceil((oldest_ms + WINDOW_MS - now_ms) / 1000))
        raise Problem(
            429,
            "Too Many Requests",
            f"at most {limit} {action} requests a minute; retry in {retry_after}s",
            headers={"Retry-After": str(retry_after)},
        )
