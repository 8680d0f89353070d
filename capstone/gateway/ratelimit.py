"""Rate limiting in Redis (lesson 08): a sliding one-minute window per user and action.

Each request is one member of a sorted set scored by its time in milliseconds. One Lua script,
which Redis runs atomically in one round trip, drops members older than the window, counts, and
adds this request only when it is under the limit: the count is exactly the requests of the last
60 seconds, with no burst allowed at the edge of a fixed window, and a refused request is not
kept, so a client that keeps knocking is not locked out for longer. Every gateway instance
shares the sets, because they live in Redis.
"""

from __future__ import annotations

import math
import time
import uuid
from typing import Any, Final

from capstone.common.problems import Problem

WINDOW_MS = 60_000
# KEYS[1]: the set; ARGV: now (ms), this request's member, window (ms), limit.
# Returns -1 when the request is let through, else the time (ms) of the oldest one counted.
HIT: Final = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
    redis.call('ZADD', KEYS[1], now, ARGV[2])
    redis.call('PEXPIRE', KEYS[1], window)
    return -1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) or now
"""


class RateLimiter:
    def __init__(self, redis: Any, prefix: str, per_minute: int) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:ratelimit"
        self.limit = per_minute
        self._hit = redis.register_script(HIT)  # sent by its SHA once Redis knows it

    async def hit(self, action: str, who: str, limit: int | None = None) -> None:
        """Counts one request; raises a 429 problem when over the limit (``limit`` a minute,
        or the limiter's own)."""
        limit = self.limit if limit is None else limit
        key = f"{self.prefix}:{action}:{who}"
        now_ms = int(time.time() * 1000)
        member = f"{now_ms}:{uuid.uuid4().hex}"
        oldest_ms = int(await self._hit(keys=[key], args=[now_ms, member, WINDOW_MS, limit]))
        if oldest_ms < 0:
            return
        retry_after = max(1, math.ceil((oldest_ms + WINDOW_MS - now_ms) / 1000))
        raise Problem(
            429,
            "Too Many Requests",
            f"at most {limit} {action} requests a minute; retry in {retry_after}s",
            headers={"Retry-After": str(retry_after)},
        )
