"""07.2 — retries with exponential backoff and full jitter, then the dead letter (reference).

A consumer meets two kinds of failure:

- **transient**: the database is restarting, a service times out. Trying again later may
  work, so wait and retry: exponentially longer each time (the failing service gets room to
  recover), with random **jitter** (a thousand consumers that failed together do not retry
  together), up to a bound;
- **permanent**: a poison message (``PoisonMessage``: bad JSON, an unknown type or version).
  Retrying can never help: send it to the dead letter at once, with its reason.

Either way the consumer goes on with the next message: one bad message must never block the
queue or crash the consumer.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from .envelope import PoisonMessage

M = TypeVar("M")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to try a message.

    ``max_attempts`` counts every try, the first included (1 means "never retry").
    """

    max_attempts: int = 5
    base_delay: float = 0.1
    max_delay: float = 10.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.base_delay <= 0:
            raise ValueError(f"base_delay must be positive, got {self.base_delay}")
        if self.max_delay < self.base_delay:
            raise ValueError(
                f"max_delay ({self.max_delay}) must be at least base_delay ({self.base_delay})"
            )

    def ceiling(self, retry: int) -> float:
        """The longest wait before retry number ``retry`` (1, 2, ...): base · 2^(retry-1),
        capped at ``max_delay``."""
        if retry < 1:
            raise ValueError(f"retries are numbered from 1, got {retry}")
        # 2 ** retry grows without bound; cap the exponent so the float never overflows
        return min(self.max_delay, self.base_delay * 2 ** min(retry - 1, 64))

    def delay(self, retry: int, rng: random.Random) -> float:
        """Full jitter: a uniformly random wait between 0 and ``ceiling(retry)``."""
        return rng.uniform(0, self.ceiling(retry))


@dataclass(frozen=True)
class Outcome:
    """What happened to one message: handled (``ok``) or dead-lettered with a ``reason``."""

    ok: bool
    attempts: int
    reason: str | None = None


async def process_with_retries(
    message: M,
    handler: Callable[[M], Awaitable[None]],
    policy: RetryPolicy,
    *,
    dead_letter: Callable[[M, str], Awaitable[None]],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: random.Random | None = None,
) -> Outcome:
    """Runs ``handler(message)`` until it succeeds, retrying transient failures.

    - success: ``Outcome(ok=True, attempts=n)``;
    - ``PoisonMessage``: never retried; ``dead_letter(message, error.reason)`` at once;
    - any other ``Exception``: wait ``policy.delay(retry, rng)`` and try again, up to
      ``policy.max_attempts`` tries in all; then ``dead_letter(message, reason)`` with a reason
      that starts ``gave up after N attempts:`` and names the last error.

    Never raises for a failing handler; cancellation (and any BaseException) propagates.
    """
    rng = rng or random.Random()
    attempt = 0
    while True:
        attempt += 1
        try:
            await handler(message)
        except PoisonMessage as poison:
            await dead_letter(message, poison.reason)
            return Outcome(ok=False, attempts=attempt, reason=poison.reason)
        except Exception as error:
            if attempt >= policy.max_attempts:
                reason = f"gave up after {attempt} attempts: {type(error).__name__}: {error}"
                await dead_letter(message, reason)
                return Outcome(ok=False, attempts=attempt, reason=reason)
            await sleep(policy.delay(attempt, rng))
        else:
            return Outcome(ok=True, attempts=attempt)
