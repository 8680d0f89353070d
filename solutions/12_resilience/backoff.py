"""12.1 Retries with exponential backoff, full jitter and a retryable predicate (warm-up).

A call that failed for a passing reason (a refused connection, a timeout) often works a moment
later. Retrying is right, but *how* matters:

- wait between attempts, longer each time (exponential backoff), up to a cap;
- make each wait random, anywhere between 0 and that bound ("full jitter"), so a thousand
  clients that failed together do not all come back together;
- retry only failures that can pass (`retryable`); a bad request fails the same way every time;
- stop after a number of attempts and raise the last error itself.

The clock's sleep and the random source are injected, so a test runs the whole policy in
microseconds and knows exactly how long every pause was. `tenacity_retrying` builds the same
policy with the tenacity library.
"""

from __future__ import annotations

import functools
import math
import random as random_module
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import tenacity

P = ParamSpec("P")
T = TypeVar("T")
Sleep = Callable[[float], None]
Random = Callable[[], float]  # returns a float in [0, 1), like random.random
Retryable = Callable[[BaseException], bool]


def default_retryable(error: BaseException) -> bool:
    """Failures that may pass if tried again: ConnectionError and TimeoutError (given)."""
    return isinstance(error, ConnectionError | TimeoutError)


def backoff_ceiling(attempt: int, *, base: float, cap: float) -> float:
    """The longest pause after failed attempt number `attempt` (1 for the first failure).

    It doubles each time, starting at `base`, and never exceeds `cap`:
    `min(cap, base * 2 ** (attempt - 1))`. With base=0.1 and cap=1: 0.1, 0.2, 0.4, 0.8, 1.0,
    1.0... A huge attempt number returns `cap` (no OverflowError). `attempt < 1` is a ValueError
    (its message mentions that attempts start at 1).
    """
    if attempt < 1:
        raise ValueError(f"attempt numbers start at 1, got {attempt}")
    try:
        grown = base * 2.0 ** (attempt - 1)
    except OverflowError:
        return cap
    return min(cap, grown)


def full_jitter(
    attempt: int, *, base: float, cap: float, random: Random = random_module.random
) -> float:
    """A pause drawn uniformly from [0, backoff_ceiling(attempt)): `random() * ceiling`.

    "Full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"): spreading the
    pauses over the whole window is what breaks up a crowd of clients retrying in step.
    """
    return random() * backoff_ceiling(attempt, base=base, cap=cap)


def jittered_retry_after(seconds: float, *, random: Random = random_module.random) -> int:
    """A `Retry-After` value in whole seconds, spread so that rejected clients return apart.

    The result is an integer drawn uniformly from `ceil(seconds)` to `ceil(2 * seconds)`, both
    included, and never less than 1: `seconds=1` gives 1 or 2, `seconds=10` gives 10 to 20.
    `random() == 0` gives the lowest value, `random()` close to 1 the highest.
    """
    low = max(1, math.ceil(seconds))
    high = max(low, math.ceil(2 * seconds))
    return min(high, low + math.floor(random() * (high - low + 1)))


def retry(
    *,
    attempts: int = 3,
    base: float = 0.1,
    cap: float = 2.0,
    retryable: Retryable = default_retryable,
    sleep: Sleep = time.sleep,
    random: Random = random_module.random,
) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """A decorator that retries a function with exponential backoff and full jitter.

    ```
    @retry(attempts=4, base=0.05, cap=1.0)
    def fetch_rates() -> dict: ...
    ```

    - The function is called at most `attempts` times (attempts=1: once, never retried).
    - After failed attempt n, when another attempt is allowed, it sleeps
      `full_jitter(n, base=base, cap=cap, random=random)` with the injected `sleep`.
    - Only an `Exception` for which `retryable(error)` is true is retried. Any other error is
      raised at once, as are BaseExceptions such as KeyboardInterrupt (never retried, whatever
      `retryable` says).
    - When the attempts are used up, the last error itself is raised (not a wrapper).
    - The decorated function keeps its name and docstring (functools.wraps).
    - Checked when the decorator is made: `attempts >= 1`, `base > 0`, `cap >= base`,
      otherwise ValueError.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    if base <= 0:
        raise ValueError(f"base must be positive, got {base}")
    if cap < base:
        raise ValueError(f"cap ({cap}) must be at least base ({base})")

    def decorate(fn: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            for attempt in range(1, attempts + 1):
                try:
                    return fn(*args, **kwargs)
                except Exception as error:
                    if attempt == attempts or not retryable(error):
                        raise
                sleep(full_jitter(attempt, base=base, cap=cap, random=random))
            raise AssertionError("unreachable: the last attempt returns or raises")

        return wrapper

    return decorate


def tenacity_retrying(
    *,
    attempts: int,
    base: float,
    cap: float,
    retryable: Retryable = default_retryable,
    sleep: Sleep = time.sleep,
) -> tenacity.Retrying:
    """The same policy as `retry`, built with tenacity: returns a `tenacity.Retrying`.

    Use it as `tenacity_retrying(...)(fn, *args)` or `for attempt in tenacity_retrying(...):`.
    It must stop after `attempts` attempts, wait with full jitter between 0 and
    `min(cap, base * 2 ** (n - 1))` (tenacity calls this `wait_random_exponential`), retry only
    exceptions that `retryable` accepts, sleep with the given `sleep`, and raise the last error
    itself when it gives up (not tenacity's RetryError).
    """
    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts),
        wait=tenacity.wait_random_exponential(multiplier=base, max=cap),
        retry=tenacity.retry_if_exception(retryable),
        sleep=sleep,
        reraise=True,
    )
