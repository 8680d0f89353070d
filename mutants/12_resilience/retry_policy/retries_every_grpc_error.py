"""Retries any gRPC error, including FAILED_PRECONDITION (insufficient stock).

A wrong solution of 12.8 `retry_policy`, kept so that its tests prove
they catch this bug. Everything else is the reference solution.
"""

from __future__ import annotations

import random as random_module
from collections.abc import Callable
from dataclasses import dataclass, field

from .backoff import full_jitter

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
    import httpx  # here, not at the top: a gRPC-only service need not import httpx

    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code in RETRYABLE_HTTP_STATUSES
    return isinstance(error, httpx.TransportError) or transient(error)


def retryable_grpc(error: BaseException) -> bool:
    """True for a gRPC call's failure that may pass on another attempt.

    A `grpc.RpcError` (grpc.aio raises `grpc.aio.AioRpcError`, which is one) whose `code()` is
    UNAVAILABLE, DEADLINE_EXCEEDED or RESOURCE_EXHAUSTED (their names are in
    RETRYABLE_GRPC_CODES); ConnectionError and TimeoutError. Anything else is False:
    FAILED_PRECONDITION ("insufficient stock"), INVALID_ARGUMENT, NOT_FOUND...
    """
    import grpc

    if isinstance(error, grpc.RpcError) and callable(getattr(error, "code", None)):
        return True
    return transient(error)


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
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")
        if self.base_delay <= 0:
            raise ValueError(f"base_delay must be positive, got {self.base_delay}")
        if self.max_delay < self.base_delay:
            raise ValueError(
                f"max_delay ({self.max_delay}) must be at least base_delay ({self.base_delay})"
            )

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
        if not self.retryable(error) or attempt >= self.attempts:
            return None
        pause = full_jitter(attempt, base=self.base_delay, cap=self.max_delay, random=random)
        return pause if pause < remaining else None
