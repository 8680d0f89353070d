"""05.5 An async token-bucket rate limiter (core).

A bucket holds up to `capacity` tokens and refills continuously at `rate` tokens per second.
Each operation takes a token: bursts up to `capacity` pass at once, and over a long run no
more than `rate` per second get through. The clock and the sleep function are injected, so a
test can drive time by hand instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    """A token bucket: `rate` tokens per second, at most `capacity` stored; it starts full.

    - `clock()` returns the current time in seconds (default time.monotonic); `sleep(seconds)`
      waits that long (default asyncio.sleep). Both are only ever called, never replaced.
    - `rate <= 0` or `capacity <= 0` is a ValueError.
    """

    def __init__(
        self,
        rate: float,
        capacity: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        raise NotImplementedError("05.5: validate and store the settings, a full bucket, a Lock")

    @property
    def tokens(self) -> float:
        """The tokens available now (after refilling for the time passed), never > capacity."""
        raise NotImplementedError("05.5: refill, then return the tokens")

    def try_acquire(self, tokens: float = 1) -> bool:
        """Takes `tokens` now if that many are available and returns True; otherwise takes
        nothing and returns False. Never waits. `tokens <= 0` or `tokens > capacity` is a
        ValueError (such a request could never be served).
        """
        raise NotImplementedError("05.5: refill, then take the tokens if there are enough")

    async def acquire(self, tokens: float = 1) -> None:
        """Waits until `tokens` are available, then takes them.

        Waits with the injected sleep, exactly as long as the refill needs (no busy polling).
        Concurrent callers are served first come, first served. If the waiting task is
        cancelled, nothing is taken. Same ValueError rules as try_acquire.
        """
        raise NotImplementedError("05.5: under the lock, sleep (missing / rate) until it fits")
