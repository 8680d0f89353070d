"""Waits in small fixed steps instead of sleeping as long as the refill needs.

05.5 An async token-bucket rate limiter (core).

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
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(capacity)
        self._updated = clock()
        # One waiter at a time: waiters are served in arrival order, and two of them never
        # both count on the same refill.
        self._lock = asyncio.Lock()

    @property
    def tokens(self) -> float:
        """The tokens available now (after refilling for the time passed), never > capacity."""
        self._refill()
        return self._tokens

    def try_acquire(self, tokens: float = 1) -> bool:
        """Takes `tokens` now if that many are available and returns True; otherwise takes
        nothing and returns False. Never waits. `tokens <= 0` or `tokens > capacity` is a
        ValueError (such a request could never be served).
        """
        self._check(tokens)
        self._refill()
        if self._tokens >= tokens:
            self._tokens -= tokens
            return True
        return False

    async def acquire(self, tokens: float = 1) -> None:
        """Waits until `tokens` are available, then takes them.

        Waits with the injected sleep, exactly as long as the refill needs (no busy polling).
        Concurrent callers are served first come, first served. If the waiting task is
        cancelled, nothing is taken. Same ValueError rules as try_acquire.
        """
        self._check(tokens)
        async with self._lock:
            while not self.try_acquire(tokens):
                await self._sleep(0.01)

    def _check(self, tokens: float) -> None:
        if tokens <= 0:
            raise ValueError(f"tokens must be positive, got {tokens}")
        if tokens > self.capacity:
            raise ValueError(f"cannot take {tokens} tokens from a bucket of {self.capacity}")

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)  # a clock that goes backwards adds nothing
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        self._updated = now
