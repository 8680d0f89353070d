"""12.9 The resilient client used between the capstone's services (capstone piece).

One object per downstream wraps *any* async call, HTTP or gRPC, and gives it everything this
lesson built:

- a **deadline** (12.5): the caller's, shortened to this client's own `timeout`; every attempt
  is told how much time is left, and is cut off when it runs out;
- **retries** (12.8) with full jitter, only for retryable failures, only while time is left;
- a **circuit breaker** (12.2) per downstream: when it is open, calls fail at once;
- an **idempotency key** (12.6) per call, the same on every attempt, so that a retried POST
  or a retried `Reserve` is done once by the service that receives it;
- one exception, `DependencyUnavailable` (12.8), that a service maps to a 503 with a jittered
  `Retry-After`.

```
inventory = ResilientClient("inventory", timeout=2.0,
                            policy=RetryPolicy(attempts=3, retryable=retryable_grpc))
reply = await inventory.call(
    lambda attempt: stub.Reserve(request, timeout=attempt.timeout),
    deadline=current_deadline.get(), idempotency_key=order_id)
```

Nothing here reads settings or globals: the clock, the sleep and the random source are
injected, so tests run it on a fake clock.
"""

from __future__ import annotations

import asyncio
import random as random_module
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from .circuit_breaker import CircuitBreaker
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

    You will also need `uuid`, `jittered_retry_after` (from `.backoff`) and `CircuitOpen`
    (from `.circuit_breaker`).
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
        raise NotImplementedError("12.9: validate, keep the settings, make the breaker if None")

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
        raise NotImplementedError("12.9: one deadline, one key, then attempt / record / retry")
