"""07.2 — retries with exponential backoff and full jitter, then the dead letter.

A consumer meets two kinds of failure:

- **transient**: the database is restarting, a service times out. Trying again later may
  work, so wait and retry: exponentially longer each time (the failing service gets room to
  recover), with random **jitter** (a thousand consumers that failed together must not retry
  together), up to a bound;
- **permanent**: a poison message (``PoisonMessage``: bad JSON, an unknown type or version).
  Retrying can never help: send it to the dead letter at once, with its reason.

Either way the consumer goes on with the next message: one bad message must never block the
queue or crash the consumer. The capstone's stream consumer (07.7) uses this module.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

M = TypeVar("M")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to try a message.

    ``max_attempts`` counts every try, the first included (1 means "never retry");
    ``base_delay`` and ``max_delay`` are seconds.
    """

    max_attempts: int = 5
    base_delay: float = 0.1
    max_delay: float = 10.0

    def __post_init__(self) -> None:
        """ValueError, with the offending field's name in the message, when
        ``max_attempts`` < 1, ``base_delay`` <= 0, or ``max_delay`` < ``base_delay``."""
        raise NotImplementedError("07.2: check the three fields")

    def ceiling(self, retry: int) -> float:
        """The longest wait before retry number ``retry`` (1, 2, 3...):
        ``base_delay * 2 ** (retry - 1)``, capped at ``max_delay``. A huge ``retry`` must not
        overflow. ValueError for ``retry`` < 1."""
        raise NotImplementedError("07.2: exponential, capped")

    def delay(self, retry: int, rng: random.Random) -> float:
        """Full jitter: a wait drawn uniformly from [0, ``ceiling(retry)``] with ``rng``
        (so a seeded ``random.Random`` gives the same waits every time)."""
        raise NotImplementedError("07.2: rng.uniform(0, ceiling)")


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

    - success on attempt n: ``Outcome(ok=True, attempts=n)``;
    - ``PoisonMessage``: never retried, no wait; ``await dead_letter(message, error.reason)``
      at once; ``Outcome(ok=False, attempts=n, reason=error.reason)``;
    - any other ``Exception``: ``await sleep(policy.delay(n, rng))`` and try again, up to
      ``policy.max_attempts`` attempts in all (no wait after the last one); then
      ``dead_letter(message, reason)`` with a reason that starts ``gave up after N attempts:``
      and contains the last error's message.

    Never raises for a failing handler. Cancellation (any BaseException) propagates with no
    dead letter, and so does an exception raised by ``dead_letter`` itself (the caller must
    not acknowledge a message whose dead letter was not written). ``rng`` defaults to a new
    ``random.Random()``.
    """
    raise NotImplementedError("07.2: a loop over attempts; PoisonMessage, Exception, success")
