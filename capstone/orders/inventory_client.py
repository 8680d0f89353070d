"""The orders service's gRPC client of inventory (lesson 06), made resilient by lesson 12's
piece (exercise 12.9, ``resilient_client``, with 12.8's ``retry_policy``, through
capstone.pieces).

Every call goes through one ``ResilientClient``: a deadline for the whole call, retries with
full jitter of what may pass on another attempt (UNAVAILABLE, DEADLINE_EXCEEDED,
RESOURCE_EXHAUSTED: every call here is safe to repeat, ``Reserve`` and ``Release`` being
idempotent by order id and ``SetStock`` setting an absolute level), and a circuit breaker that
fails calls at once while inventory is down, instead of making each wait for its deadline.

What is left here is the glue: the gRPC status codes become exceptions the placing code
understands: FAILED_PRECONDITION is :class:`InsufficientStock` (409), INVALID_ARGUMENT is
:class:`InvalidReservation` (422), and anything else, once the piece gives up, is
:class:`InventoryUnavailable` (503, with the piece's jittered ``Retry-After``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from capstone.common.logging import current_request_id
from capstone.common.tracing import grpc_client_interceptors
from capstone.contracts import inventory_pb2 as pb
from capstone.contracts import inventory_pb2_grpc as pb_grpc
from capstone.contracts.orders import OrderItem
from capstone.pieces import piece

SERVICE_NAME = "shop.inventory.v1.Inventory"
RETRIES = 3
# After inventory restarts, the channel tries to reconnect only when its backoff (1 s, growing
# by 1.6x up to 2 min by default) expires: orders would answer 503 for seconds after inventory
# is back. Capped, it reconnects within a second of inventory's return.
RECONNECT_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 1000),
]
# failures in a row that open the circuit, and how long it stays open before a probe: while
# inventory is down, calls fail at once instead of each waiting out its deadline; short, so a
# restarted inventory is used again about as soon as the channel has reconnected
BREAKER_FAILURES = 5
BREAKER_RESET_SECONDS = 2.0
T = TypeVar("T")


class InsufficientStock(Exception):
    pass


class InvalidReservation(Exception):
    pass


class InventoryUnavailable(Exception):
    """Inventory cannot answer now; ``retry_after`` is the seconds a client should wait."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InventoryClient:
    def __init__(
        self, target: str, deadline_seconds: float, stub: pb_grpc.InventoryStub | None = None
    ) -> None:
        self.target = target
        self.deadline = deadline_seconds
        self._channel: grpc.aio.Channel | None = None
        self._stub = stub  # given by unit tests; otherwise made on the first call
        resilience, retry_policy = piece("resilient_client"), piece("retry_policy")
        self._unavailable: type[Exception] = resilience.DependencyUnavailable
        self._resilient = resilience.ResilientClient(
            "inventory",
            timeout=deadline_seconds,
            policy=retry_policy.RetryPolicy(
                attempts=RETRIES, retryable=retry_policy.retryable_grpc
            ),
            breaker=resilience.CircuitBreaker(
                "inventory",
                failure_threshold=BREAKER_FAILURES,
                reset_timeout=BREAKER_RESET_SECONDS,
            ),
        )

    def _open(self) -> grpc.aio.Channel:
        # an aio channel belongs to the event loop that creates it: open it inside the server's
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(
                self.target,
                options=RECONNECT_OPTIONS,
                interceptors=grpc_client_interceptors(),
            )
        return self._channel

    @property
    def stub(self) -> pb_grpc.InventoryStub:
        if self._stub is None:
            self._stub = pb_grpc.InventoryStub(self._open())
        return self._stub

    @property
    def health(self) -> health_pb2_grpc.HealthStub:
        return health_pb2_grpc.HealthStub(self._open())

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        rid = current_request_id()
        return (("x-request-id", rid),) if rid else ()

    async def _call(
        self, rpc: Callable[[float], Awaitable[T]], *, idempotency_key: str | None = None
    ) -> T:
        """``rpc(timeout)`` through the resilient client; its failures as this module's."""
        try:
            return await self._resilient.call(
                lambda attempt: rpc(attempt.timeout), idempotency_key=idempotency_key
            )
        except grpc.aio.AioRpcError as error:  # an answer that another attempt would not change
            code = error.code()
            if code == grpc.StatusCode.FAILED_PRECONDITION:
                raise InsufficientStock(error.details() or "insufficient stock") from error
            if code == grpc.StatusCode.INVALID_ARGUMENT:
                raise InvalidReservation(error.details() or "invalid") from error
            raise InventoryUnavailable(f"{code.name}: {error.details()}") from error
        except self._unavailable as error:
            raise InventoryUnavailable(_why(error), _retry_after(error)) from error

    async def reserve(self, order_id: str, items: list[OrderItem]) -> bool:
        """Reserves every line or none; True when inventory had already reserved this order."""
        request = pb.ReserveRequest(
            order_id=order_id,
            lines=[pb.Line(product_id=i.product_id, quantity=i.quantity) for i in items],
        )
        reply = await self._call(
            lambda timeout: self.stub.Reserve(request, timeout=timeout, metadata=self._metadata()),
            idempotency_key=order_id,
        )
        return bool(reply.replayed)

    async def release(self, order_id: str) -> bool:
        """Gives the order's reservation back; True when there was one. Safe to repeat."""
        request = pb.ReleaseRequest(order_id=order_id)
        reply = await self._call(
            lambda timeout: self.stub.Release(request, timeout=timeout, metadata=self._metadata()),
            idempotency_key=order_id,
        )
        return bool(reply.released)

    async def set_stock(self, product_id: int, quantity: int) -> int:
        request = pb.SetStockRequest(product_id=product_id, quantity=quantity)
        reply = await self._call(
            lambda timeout: self.stub.SetStock(request, timeout=timeout, metadata=self._metadata())
        )
        return int(reply.quantity)

    async def get_stock(self, product_id: int) -> int:
        request = pb.GetStockRequest(product_id=product_id)
        reply = await self._call(
            lambda timeout: self.stub.GetStock(request, timeout=timeout, metadata=self._metadata())
        )
        return int(reply.quantity)

    async def check(self) -> None:
        """Readiness: the standard gRPC health service says SERVING."""
        reply = await self.health.Check(
            health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=1.0
        )
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            raise RuntimeError(
                f"inventory is {health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)}"
            )

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()


def _why(error: Any) -> str:
    """ "inventory is unavailable: retries exhausted (UNAVAILABLE: connection refused)"."""
    cause = error.__cause__
    if isinstance(cause, grpc.aio.AioRpcError):
        return f"{error} ({cause.code().name}: {cause.details()})"
    return f"{error} ({cause!r})" if cause is not None else str(error)


def _retry_after(error: Any) -> int:
    return max(1, int(getattr(error, "retry_after", 1)))
