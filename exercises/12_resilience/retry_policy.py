"""12.8 The resilient client, stage 1: what to retry, and how long to wait (capstone).

The capstone's services call each other: the gateway calls catalog and orders over HTTP, orders
calls inventory over gRPC. Stage 1 decides, for one failed attempt, whether to try again and
after what pause; stage 2 (`resilient_client`, 12.9) runs the calls.

- Retry only what can pass: a refused connection, a 503, gRPC's UNAVAILABLE. Never a 404, a
  409 "insufficient stock", an INVALID_ARGUMENT: they fail the same way every time.
- Wait with full jitter (12.1), and never past the deadline: an attempt that would start after
  the caller has stopped waiting is load on a sick service for nothing.
- When it gives up, one exception type, `DependencyUnavailable`, that every service maps to a
  503 with a `Retry-After` header: a dependency that is down is never a 500.
"""

from __future__ import annotations

import random as random_module
from collections.abc import Callable
from dataclasses import dataclass, field

Random = Callable[[], float]

RETRYABLE_HTTP_STATUSES = frozenset({429, 502, 503, 504})
RETRYABLE_GRPC_CODES = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED"})


class DependencyUnavailable(Exception):
    """A downstream cannot serve the call now (given).

    - `downstream` names it ("inventory"), `reason` says why: "circuit open",
      "deadline exceeded" or "retries exhausted".
    - `retry_after` is whole seconds (>= 1), already jittered: a service answers
      `503` with the header `Retry-After: str(error.retry_after)`.
    - The last underlying error, if any, is the `__cause__`.
    """

    def __init__(self, downstream: str, reason: str, retry_after: int) -> None:
        super().__init__(f"{downstream} is unavailable: {reason}")
        self.downstream = downstream
        self.reason = reason
        self.retry_after = retry_after


def transient(error: BaseException) -> bool:
    """The default predicate: ConnectionError and TimeoutError (given)."""
    return isinstance(error, ConnectionError | TimeoutError)


def retryable_http(error: BaseException) -> bool:
    """True for failures of an HTTP call (httpx) that may pass on another attempt.

    - any `httpx.TransportError`: the connection was refused or broke, or a timeout
      (ConnectError, ReadError, RemoteProtocolError, ReadTimeout... all are TransportErrors);
    - `httpx.HTTPStatusError` (from `response.raise_for_status()`) whose status is in
      RETRYABLE_HTTP_STATUSES: 429, 502, 503, 504;
    - ConnectionError and TimeoutError.
    Anything else is False: another status (a 404, a 409, a 500 from a bug), a ValueError...
    """
    raise NotImplementedError("12.8: transport errors, 429/502/503/504, and transient()")


def retryable_grpc(error: BaseException) -> bool:
    """True for a gRPC call's failure that may pass on another attempt.

    A `grpc.RpcError` (grpc.aio raises `grpc.aio.AioRpcError`, which is one) whose `code()` is
    UNAVAILABLE, DEADLINE_EXCEEDED or RESOURCE_EXHAUSTED (their names are in
    RETRYABLE_GRPC_CODES); ConnectionError and TimeoutError. Anything else is False:
    FAILED_PRECONDITION ("insufficient stock"), INVALID_ARGUMENT, NOT_FOUND...
    """
    raise NotImplementedError(
        "12.8: a grpc.RpcError whose code().name is retryable, or transient()"
    )


@dataclass(frozen=True)
class RetryPolicy:
    """How one downstream's calls are retried.

    - `attempts`: at most this many attempts per call (>= 1);
    - `base_delay`, `max_delay`: the full-jitter window after failed attempt n is
      `[0, min(max_delay, base_delay * 2 ** (n - 1)))` (`backoff.full_jitter`, 12.1);
      `base_delay > 0` and `max_delay >= base_delay`;
    - `retryable(error)`: which failures are worth another attempt (`retryable_http`,
      `retryable_grpc`, or your own).
    Bad values are a ValueError when the policy is made.
    """

    attempts: int = 3
    base_delay: float = 0.05
    max_delay: float = 1.0
    retryable: Callable[[BaseException], bool] = field(default=transient)

    def __post_init__(self) -> None:
        raise NotImplementedError("12.8: refuse attempts < 1, base_delay <= 0, max_delay < base")

    def next_delay(
        self,
        attempt: int,
        error: BaseException,
        remaining: float,
        *,
        random: Random = random_module.random,
    ) -> float | None:
        """After attempt number `attempt` (1-based) failed with `error`, with `remaining`
        seconds left before the deadline: the pause before the next attempt, or None to stop.

        None when the error is not retryable, when `attempt` was the last one allowed, or when
        the pause would reach the deadline (`pause >= remaining`: no attempt could start in
        time). Otherwise the pause is `full_jitter(attempt, base=base_delay, cap=max_delay,
        random=random)` (12.1: `from .backoff import full_jitter`). It never sleeps itself.
        """
        raise NotImplementedError("12.8: None to stop, else a full-jitter pause that fits")
