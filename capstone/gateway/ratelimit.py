"""Rate limiting in Redis (lesson 08): a fixed one-minute window per user and action.

``INCR`` the window's counter (it expires with the window); above the limit the request is
refused with 429 and ``Retry-After`` = seconds until the window ends. Every gateway instance
shares the counters, because they live in Redis.
"""

from __future__ import annotations

import math
import time
from typing import Any

from capstone.common.problems import Problem

WINDOW_SECONDS = 60


class RateLimiter:
    def __init__(self, redis: Any, prefix: str, per_minute: int) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:ratelimit"
        self.limit = per_minute

    async def hit(self, action: str, who: str) -> None:
        """Counts one request; raises a 429 problem when over the limit."""
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"{self.prefix}:{action}:{who}:{window}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS + 1)
            count, _ = await pipe.execute()
        if int(count) > self.limit:
            retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
            raise Problem(
                429,
                "Too Many Requests",
                f"at most {self.limit} {action} requests a minute; retry in {retry_after}s",
                headers={"Retry-After": str(retry_after)},
            )
