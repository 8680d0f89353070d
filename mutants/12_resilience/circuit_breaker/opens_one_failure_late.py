"""Opens on the failure after the threshold (> instead of >=).

A wrong solution of 12.2 `circuit_breaker`, kept so that its tests prove
they catch this bug. Everything else is the reference solution.
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
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be at least 1, got {failure_threshold}")
        if reset_timeout <= 0:
            raise ValueError(f"reset_timeout must be positive, got {reset_timeout}")
        if half_open_max_calls < 1:
            raise ValueError(f"half_open_max_calls must be at least 1, got {half_open_max_calls}")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.half_open_max_calls = half_open_max_calls
        self._clock = clock
        self._on_change = on_change
        self._state = State.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probes = 0

    @property
    def state(self) -> State:
        """The state now; an OPEN breaker whose reset_timeout has passed reads HALF_OPEN."""
        if self._state is State.OPEN and self._clock() >= self._opened_at + self.reset_timeout:
            self._move_to(State.HALF_OPEN)
        return self._state

    @property
    def failures(self) -> int:
        """Consecutive failures counted while CLOSED."""
        return self._failures

    def acquire(self) -> None:
        """Lets a call through, or raises CircuitOpen (see the class docstring)."""
        state = self.state
        if state is State.CLOSED:
            return
        if state is State.OPEN:
            left = self._opened_at + self.reset_timeout - self._clock()
            raise CircuitOpen(self.name, max(0.0, left))
        if self._probes >= self.half_open_max_calls:
            raise CircuitOpen(self.name, 0.0)
        self._probes += 1

    def record_success(self) -> None:
        """The call worked: a HALF_OPEN breaker closes; a CLOSED one forgets its failures."""
        state = self.state
        if state is State.CLOSED:
            self._failures = 0
        elif state is State.HALF_OPEN:
            self._move_to(State.CLOSED)

    def record_failure(self) -> None:
        """The call failed: count it while CLOSED (opening at the threshold); reopen a
        HALF_OPEN breaker."""
        state = self.state
        if state is State.CLOSED:
            self._failures += 1
            if self._failures > self.failure_threshold:
                self._open()
        elif state is State.HALF_OPEN:
            self._open()

    def release(self) -> None:
        """The call ended without a verdict (cancelled, for example): frees its probe slot."""
        if self.state is State.HALF_OPEN and self._probes > 0:
            self._probes -= 1

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._move_to(State.OPEN)

    def _move_to(self, new: State) -> None:
        old = self._state
        self._state = new
        self._probes = 0
        if new is State.CLOSED:
            self._failures = 0
        if old is not new and self._on_change is not None:
            self._on_change(old, new)
