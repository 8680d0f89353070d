"""Retries with tenacity: exponential backoff, full jitter, a retryable predicate, a give-up rule.

Run: uv run python lessons/12_resilience/examples/01_retries_with_tenacity.py

A flaky function fails twice with ConnectionError, then works. tenacity retries it with
`wait_random_exponential` (exponential backoff with full jitter), only for ConnectionError, and
gives up after 5 attempts or 2 seconds, whichever comes first. Then: a ValueError is never
retried, the last error itself is raised when tenacity gives up (`reraise=True`), and the same
policy drives an async function. Finally, the pauses five clients would take after failing
together, with and without jitter: without it, they all come back at the same instants.
"""

from __future__ import annotations

import asyncio
import random
import time

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
    wait_random_exponential,
)


class Flaky:
    """Raises the given errors in turn, then returns "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def show_pause(state: RetryCallState) -> None:
    """tenacity calls this before each sleep: what failed, and how long it will wait."""
    error = state.outcome.exception() if state.outcome else None
    pause = state.next_action.sleep if state.next_action else 0.0
    print(f"  attempt {state.attempt_number} failed ({error!r}); sleeping {pause * 1000:.0f} ms")


def policy() -> Retrying:
    return Retrying(
        stop=stop_after_attempt(5) | stop_after_delay(2.0),
        wait=wait_random_exponential(multiplier=0.01, max=0.2),  # full jitter, 10 ms doubling
        retry=retry_if_exception_type((ConnectionError, TimeoutError)),
        before_sleep=show_pause,
        reraise=True,  # give up with the last error itself, not tenacity.RetryError
    )


def main() -> None:
    print("1. A transient failure is retried until it works:")
    flaky = Flaky(ConnectionError("refused"), ConnectionError("reset"))
    print(f"  result: {policy()(flaky)!r} after {flaky.calls} calls")

    print("2. A ValueError is not retryable: it is raised at once.")
    bad = Flaky(ValueError("quantity must be positive"))
    try:
        policy()(bad)
    except ValueError as error:
        print(f"  raised {error!r} after {bad.calls} call")

    print("3. When the attempts run out, the last error itself is raised:")
    down = Flaky(*(ConnectionError(f"refused #{n}") for n in range(1, 10)))
    try:
        policy()(down)
    except ConnectionError as error:
        print(f"  gave up with {error!r} after {down.calls} calls")

    print("4. The same policy, async (AsyncRetrying sleeps with asyncio.sleep):")

    async def fetch_async() -> str:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(3),
            wait=wait_random_exponential(multiplier=0.01, max=0.1),
            retry=retry_if_exception_type(ConnectionError),
            reraise=True,
        ):
            with attempt:
                if attempt.retry_state.attempt_number < 3:
                    raise ConnectionError("not yet")
                return f"ok on attempt {attempt.retry_state.attempt_number}"
        raise AssertionError("unreachable")

    print(f"  {asyncio.run(fetch_async())}")

    print("5. Five clients fail at the same moment. Their pauses, in ms, for attempts 1-4:")
    plain = wait_exponential(multiplier=0.1, max=2.0)
    jittered = wait_random_exponential(multiplier=0.1, max=2.0)
    random.seed(12)  # the same numbers on every run, for the printout

    def pauses(wait) -> list[int]:
        # a RetryCallState stand-in is enough for the wait strategies: they read attempt_number
        return [round(wait(_State(n)) * 1000) for n in range(1, 5)]

    for client in range(1, 6):
        print(f"  client {client}: no jitter {pauses(plain)}   full jitter {pauses(jittered)}")
    print("  without jitter every client retries at 100, 300, 700, 1500 ms: load in spikes.")


class _State:
    def __init__(self, attempt_number: int) -> None:
        self.attempt_number = attempt_number


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"done in {time.perf_counter() - started:.2f}s")
