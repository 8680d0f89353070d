"""12.2 A circuit breaker: closed, open, half-open, on an injected clock (warm-up).

When a downstream service is down, every call to it waits for a timeout and fails. A breaker
notices the failures and, for a while, fails calls *at once* without sending them: the caller
answers fast, and the sick service gets room to recover. Then it lets one trial call through to
see whether the service is back.

```
            failures reach the threshold              reset_timeout has passed
  CLOSED ─────────────────────────────────▶ OPEN ────────────────────────────▶ HALF_OPEN
    ▲                                        ▲                                   │    │
    │             a probe fails              └───────────────────────────────────┘    │
    └──────────────────────────────────── a probe succeeds ───────────────────────────┘
```

The breaker never sleeps and never reads the real time itself: `clock()` is injected, so a test
moves time by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

Clock = Callable[[], float]


class State(StrEnum):
    """The three states of a breaker (given)."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(Exception):
    """The breaker refused a call without sending it (given).

    `retry_after` is how many seconds until the breaker lets a probe through (0 when it is
    half-open and its probe slots are taken: try again soon).
    """

    def __init__(self, name: str, retry_after: float) -> None:
        super().__init__(f"circuit {name!r} is open: retry in {retry_after:.2f}s")
        self.name = name
        self.retry_after = retry_after


class CircuitBreaker:
    """A circuit breaker for one downstream.

    `CircuitBreaker("inventory", failure_threshold=5, reset_timeout=30.0)`

    Use it around each call:

    ```
    breaker.acquire()          # raises CircuitOpen when the call must not be sent
    try:
        result = await call()
    except TransientError:
        breaker.record_failure()
        raise
    except BaseException:
        breaker.release()      # no verdict (cancelled...): give back a probe slot
        raise
    breaker.record_success()
    ```

    Rules:

    - CLOSED: `acquire()` lets every call through. `record_failure()` counts *consecutive*
      failures; `record_success()` sets the count back to 0. The failure that brings the count
      to `failure_threshold` opens the breaker (it remembers when, on `clock()`).
    - OPEN: `acquire()` raises CircuitOpen with `retry_after` = the seconds left until
      `reset_timeout` has passed since it opened. Once that time has come, the breaker *is*
      HALF_OPEN: reading `state` or calling `acquire()` then sees HALF_OPEN (no timer runs).
    - HALF_OPEN: `acquire()` lets at most `half_open_max_calls` calls ("probes") be in flight at
      once; one more raises CircuitOpen with `retry_after=0`. A probe that ends calls
      `record_success()` (the breaker closes, the failure count is 0), `record_failure()` (it
      opens again, with a fresh `reset_timeout` from now) or `release()` (no verdict: its slot
      is free for another probe).
    - Results reported while OPEN (calls that started before it opened) change nothing.
    - `on_change(old, new)`, when given, is called on every change of state, when the change
      is made or first noticed (OPEN to HALF_OPEN is noticed by `state` or `acquire()`).
    - `failure_threshold < 1`, `reset_timeout <= 0` or `half_open_max_calls < 1` is a
      ValueError.
    """

    def __init__(
        self,
        name: str = "downstream",
        *,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        half_open_max_calls: int = 1,
        clock: Clock = time.monotonic,
        on_change: Callable[[State, State], None] | None = None,
    ) -> None:
        raise NotImplementedError("12.2: validate, store the settings, start CLOSED")

    @property
    def state(self) -> State:
        """The state now; an OPEN breaker whose reset_timeout has passed reads HALF_OPEN."""
        raise NotImplementedError("12.2: OPEN turns HALF_OPEN once reset_timeout has passed")

    @property
    def failures(self) -> int:
        """Consecutive failures counted while CLOSED."""
        raise NotImplementedError("12.2: the count of consecutive failures")

    def acquire(self) -> None:
        """Lets a call through, or raises CircuitOpen (see the class docstring)."""
        raise NotImplementedError("12.2: CLOSED passes, OPEN refuses, HALF_OPEN counts probes")

    def record_success(self) -> None:
        """The call worked: a HALF_OPEN breaker closes; a CLOSED one forgets its failures."""
        raise NotImplementedError("12.2: reset the failures, or close a half-open breaker")

    def record_failure(self) -> None:
        """The call failed: count it while CLOSED (opening at the threshold); reopen a
        HALF_OPEN breaker."""
        raise NotImplementedError("12.2: count, open at the threshold, reopen when half-open")

    def release(self) -> None:
        """The call ended without a verdict (cancelled, for example): frees its probe slot."""
        raise NotImplementedError("12.2: give a probe slot back while HALF_OPEN")
