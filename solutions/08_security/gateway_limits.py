"""08.9 The gateway's rate limits in Redis (capstone piece, stage 2 of 2).

A sliding window counts the requests of the last `window_seconds`, whatever second it is:
each allowed request is one member of a Redis sorted set, scored by its time in milliseconds.
A check drops the members that have left the window, counts the rest and, when there is
room, adds this request. Those steps run as ONE Lua script, which Redis executes atomically:
no other client's command runs in between, so 50 callers at once cannot all read "9 of 10"
and all pass. Every gateway instance shares the sets, because they live in Redis.

Logins are limited twice, so that nobody can lock anybody else out: per client address (one
address trying many accounts) and per account *from that address* (one address guessing one
password). Limiting per account alone would let anyone lock a user out by failing to log in
as them on purpose.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

# KEYS[1] the sorted set; ARGV: now (ms), window (ms), limit, a unique member.
# Returns {1 if allowed else 0, remaining, retry_after_ms}.
SLIDING_WINDOW_LUA = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
  return {1, limit - count - 1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, 0, tonumber(oldest[2]) + window - now}
"""


@dataclass(frozen=True)
class Decision:
    """The answer for one request: allowed or not, how many more fit in the window now, and
    (when refused) how many seconds until one more would be allowed."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: float


class SlidingWindowLimiter:
    """At most `limit` requests per `window_seconds` for each key, counted in Redis.

    `redis` is a `redis.asyncio.Redis` (with or without decode_responses); every key this
    limiter writes starts with `prefix + ":"` and expires by itself once its window is over.
    `clock()` is the current time in seconds since the epoch. ValueError("limit must be >= 1")
    and ValueError("window_seconds must be > 0") for bad limits; limit=1 is fine.
    """

    def __init__(
        self,
        redis: Any,
        *,
        prefix: str,
        limit: int,
        window_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be >= 1")
        if window_seconds <= 0:
            raise ValueError("window_seconds must be > 0")
        self.prefix = prefix
        self.limit = limit
        self.window_ms = int(window_seconds * 1000)
        self._clock = clock
        self._script = redis.register_script(SLIDING_WINDOW_LUA)

    def key(self, *parts: str) -> str:
        """The Redis key for `parts`: the prefix, then each part percent-encoded and joined
        with ":", so ("a:b", "c") and ("a", "b:c") never share a key."""
        return ":".join([self.prefix, *(quote(part, safe="") for part in parts)])

    async def hit(self, *parts: str) -> Decision:
        """Counts one request for the key of `parts`, if it fits; refused ones are not counted.

        A request at time t (ms) is allowed when fewer than `limit` allowed requests have
        times in (t - window, t]: the one made exactly `window_seconds` earlier has left.
        Refused: retry_after = oldest counted time + window - t, in seconds. Atomic: any
        number of concurrent callers, over any number of connections or gateway processes,
        get exactly `limit` allowed per window.
        """
        now_ms = int(self._clock() * 1000)
        allowed, remaining, retry_ms = await self._script(
            keys=[self.key(*parts)],
            args=[now_ms, self.window_ms, self.limit, uuid.uuid4().hex],
        )
        return Decision(
            allowed=bool(int(allowed)),
            limit=self.limit,
            remaining=int(remaining),
            retry_after=int(retry_ms) / 1000,
        )


class LoginThrottle:
    """Limits login attempts per client address and per (account, client address).

    `attempt(account, client)` is allowed only when both limits allow it:
      - at most `per_client` attempts per window from one client address, whatever the
        accounts (keys under `prefix + ":client"`);
      - at most `per_account` attempts per window at one account from one client address
        (keys under `prefix + ":account"`).
    So a client that guesses one password 60 times is stopped, and the same account can
    still log in from any other address. Count every attempt (check before the password).
    """

    def __init__(
        self,
        redis: Any,
        *,
        prefix: str,
        per_client: int,
        per_account: int,
        window_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clients = SlidingWindowLimiter(
            redis,
            prefix=f"{prefix}:client",
            limit=per_client,
            window_seconds=window_seconds,
            clock=clock,
        )
        self._accounts = SlidingWindowLimiter(
            redis,
            prefix=f"{prefix}:account",
            limit=per_account,
            window_seconds=window_seconds,
            clock=clock,
        )

    async def attempt(self, account: str, client: str) -> Decision:
        """One login attempt at `account` from `client`; the refusing Decision if any."""
        by_client = await self._clients.hit(client)
        if not by_client.allowed:
            return by_client
        return await self._accounts.hit(account, client)
