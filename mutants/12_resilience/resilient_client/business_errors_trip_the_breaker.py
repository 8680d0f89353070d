"""Counts a refusal such as 'insufficient stock' as a failure of the service.

A wrong solution of 12.9 `resilient_client`, kept so that its tests prove
they catch this bug. Everything else is the reference solution.
"""

from __future__ import annotations

import asyncio
import random as random_module
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from .backoff import jittered_retry_after
from .circuit_breaker import CircuitBreaker, CircuitOpen
from .deadlines import DEADLINE_HEADER, Deadline
from .idempotency import IDEMPOTENCY_HEADER
from .retry_policy import DependencyUnavailable as DependencyUnavailable
from .retry_policy import RetryPolicy

T = TypeVar("T")
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
Random = Callable[[], float]

CIRCUIT_OPEN = "circuit open"
DEADLINE_EXCEEDED = "deadline exceeded"
RETRIES_EXHAUSTED = "retries exhausted"


@dataclass(frozen=True)
class Attempt:
    """What one attempt of a call is told (given).

    - `number`: 1 for the first attempt, 2 for the first retry...
    - `deadline`: the call's deadline; `timeout` is the seconds left now: pass it on
      (`timeout=attempt.timeout` for grpc.aio and httpx).
    - `idempotency_key`: the same on every attempt of one call.
    - `headers()`: for an HTTP call, `X-Request-Budget-Ms` and `Idempotency-Key`.
    """

    number: int
    deadline: Deadline
    idempotency_key: str

    @property
    def timeout(self) -> float:
        return self.deadline.remaining()

    def headers(self) -> dict[str, str]:
        return {
            DEADLINE_HEADER: self.deadline.to_header(),
            IDEMPOTENCY_HEADER: self.idempotency_key,
        }


class ResilientClient:
    """Calls one downstream with a deadline, retries, a circuit breaker and one error type.

    `ResilientClient("inventory", timeout=2.0, policy=RetryPolicy(...))`

    - `timeout` (> 0, else ValueError): the most time one call may take, retries included.
    - `breaker`: this downstream's CircuitBreaker; when None, the client makes its own,
      `CircuitBreaker(downstream, clock=clock)`. It is `client.breaker`.
    - `retry_after`: the base of the jittered `Retry-After` of the errors it raises.
    - `clock`, `sleep`, `random`: injected (defaults: time.monotonic, asyncio.sleep,
      random.random). The call's deadline uses `clock`.
    """

    def __init__(
        self,
        downstream: str,
        *,
        timeout: float,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        retry_after: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        random: Random = random_module.random,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.downstream = downstream
        self.timeout = timeout
        self.policy = policy if policy is not None else RetryPolicy()
        self.breaker = breaker if breaker is not None else CircuitBreaker(downstream, clock=clock)
        self.retry_after = retry_after
        self._clock = clock
        self._sleep = sleep
        self._random = random

    async def call(
        self,
        operation: Callable[[Attempt], Awaitable[T]],
        *,
        deadline: Deadline | None = None,
        idempotency_key: str | None = None,
    ) -> T:
        """Runs `await operation(attempt)` until it succeeds, or raises.

        1. The call's deadline is `Deadline.after(timeout, clock=clock)`, or, when the caller
           passes its own `deadline`, the earlier of the two (`deadline.shorten(timeout)`).
           The idempotency key is `idempotency_key`, or a new `uuid.uuid4().hex`: the same
           for every attempt of this call.
        2. Before each attempt: a deadline already expired -> DependencyUnavailable
           "deadline exceeded" (no attempt is made). Then `breaker.acquire()`: CircuitOpen ->
           DependencyUnavailable "circuit open", with `retry_after` jittered from
           `max(self.retry_after, open.retry_after)` (`jittered_retry_after`, 12.1).
        3. The attempt runs under `asyncio.timeout(remaining)`; when that fires ->
           `breaker.record_failure()`, DependencyUnavailable "deadline exceeded".
        4. It succeeds -> `breaker.record_success()`, return its result.
           It raises an error that `policy.retryable` rejects -> the downstream did answer
           (a 404, "insufficient stock"): `breaker.record_success()`, and the error goes on
           up unchanged. It raises a retryable error -> `breaker.record_failure()`, then
           `policy.next_delay(number, error, deadline.remaining(), random=random)`: a pause
           -> `await sleep(pause)` and the next attempt; None -> DependencyUnavailable
           "retries exhausted" if this was the last attempt allowed, else "deadline exceeded".
        5. Cancelled (or any other BaseException) -> `breaker.release()`, then it goes on up.
        Every DependencyUnavailable has the last error as its `__cause__` and, unless said
        otherwise above, `retry_after = jittered_retry_after(self.retry_after, random=...)`.
        """
        deadline = (
            Deadline.after(self.timeout, clock=self._clock)
            if deadline is None
            else deadline.shorten(self.timeout)
        )
        key = idempotency_key or uuid.uuid4().hex
        last_error: BaseException | None = None
        number = 0
        while True:
            number += 1
            if deadline.expired:
                raise self._unavailable(DEADLINE_EXCEEDED) from last_error
            try:
                self.breaker.acquire()
            except CircuitOpen as open_circuit:
                seconds = jittered_retry_after(
                    max(self.retry_after, open_circuit.retry_after), random=self._random
                )
                raise DependencyUnavailable(self.downstream, CIRCUIT_OPEN, seconds) from (
                    last_error or open_circuit
                )
            try:
                async with asyncio.timeout(deadline.remaining()) as budget:
                    result = await operation(Attempt(number, deadline, key))
            except Exception as error:
                if isinstance(error, TimeoutError) and budget.expired():
                    self.breaker.record_failure()
                    raise self._unavailable(DEADLINE_EXCEEDED) from error
                pause = self._after_failure(number, error, deadline)
                last_error = error
            except BaseException:
                self.breaker.release()
                raise
            else:
                self.breaker.record_success()
                return result
            await self._sleep(pause)

    def _after_failure(self, number: int, error: Exception, deadline: Deadline) -> float:
        """Records the failure and returns the pause before the next attempt, or raises."""
        if not self.policy.retryable(error):
            self.breaker.record_failure()
            raise error
        self.breaker.record_failure()
        pause = self.policy.next_delay(number, error, deadline.remaining(), random=self._random)
        if pause is None:
            reason = RETRIES_EXHAUSTED if number >= self.policy.attempts else DEADLINE_EXCEEDED
            raise self._unavailable(reason) from error
        return pause

    def _unavailable(self, reason: str) -> DependencyUnavailable:
        seconds = jittered_retry_after(self.retry_after, random=self._random)
        return DependencyUnavailable(self.downstream, reason, seconds)
