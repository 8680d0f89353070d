"""The orders service's gRPC client of inventory (lesson 06; deadlines and retries: lesson 12).

Every call has a deadline. ``Reserve`` is idempotent by order id, so an UNAVAILABLE answer is
retried (a couple of times, inside the same overall deadline) without risk of reserving twice.
``Release`` gives a reservation back when the order could not be written after all.

The gRPC status codes become exceptions the placing code understands: FAILED_PRECONDITION is
:class:`InsufficientStock` (409), INVALID_ARGUMENT is :class:`InvalidReservation` (422), and
anything else, once retries are spent, is :class:`InventoryUnavailable` (503).
"""

from __future__ import annotations

import asyncio
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from capstone.common.logging import current_request_id
from capstone.common.tracing import grpc_client_interceptors
from capstone.contracts import inventory_pb2 as pb
from capstone.contracts import inventory_pb2_grpc as pb_grpc
from capstone.contracts.orders import OrderItem

SERVICE_NAME = "shop.inventory.v1.Inventory"
RETRIES = 3
# After inventory restarts, the channel tries to reconnect only when its backoff (1 s, growing
# by 1.6x up to 2 min by default) expires: orders would answer 503 for seconds after inventory
# is back. Capped, it reconnects within a second of inventory's return.
RECONNECT_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


class InsufficientStock(Exception):
    pass


class InvalidReservation(Exception):
    pass


class InventoryUnavailable(Exception):
    pass


class InventoryClient:
    def __init__(
        self, target: str, deadline_seconds: float, stub: pb_grpc.InventoryStub | None = None
    ) -> None:
        self.target = target
        self.deadline = deadline_seconds
        self._channel: grpc.aio.Channel | None = None
        self._stub = stub  # given by unit tests; otherwise made on the first call

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

    async def reserve(self, order_id: str, items: list[OrderItem]) -> bool:
        request = pb.ReserveRequest(
            order_id=order_id,
            lines=[pb.Line(product_id=i.product_id, quantity=i.quantity) for i in items],
        )
        give_up = time.monotonic() + self.deadline
        for attempt in range(1, RETRIES + 1):
            left = give_up - time.monotonic()
            try:
                reply = await self.stub.Reserve(request, timeout=left, metadata=self._metadata())
                return bool(reply.replayed)
            except grpc.aio.AioRpcError as error:
                code = error.code()
                if code == grpc.StatusCode.FAILED_PRECONDITION:
                    raise InsufficientStock(error.details() or "insufficient stock") from error
                if code == grpc.StatusCode.INVALID_ARGUMENT:
                    raise InvalidReservation(error.details() or "invalid") from error
                retry = code == grpc.StatusCode.UNAVAILABLE and attempt < RETRIES
                if not retry or time.monotonic() + 0.1 * attempt >= give_up:
                    raise InventoryUnavailable(f"{code.name}: {error.details()}") from error
                await asyncio.sleep(0.1 * attempt)  # backoff before the next attempt
        raise InventoryUnavailable("no attempt left")

    async def release(self, order_id: str) -> bool:
        """Gives the order's reservation back; True when there was one. Safe to repeat."""
        try:
            reply = await self.stub.Release(
                pb.ReleaseRequest(order_id=order_id),
                timeout=self.deadline,
                metadata=self._metadata(),
            )
        except grpc.aio.AioRpcError as error:
            raise InventoryUnavailable(f"{error.code().name}: {error.details()}") from error
        return bool(reply.released)

    async def set_stock(self, product_id: int, quantity: int) -> int:
        try:
            reply = await self.stub.SetStock(
                pb.SetStockRequest(product_id=product_id, quantity=quantity),
                timeout=self.deadline,
                metadata=self._metadata(),
            )
        except grpc.aio.AioRpcError as error:
            raise InventoryUnavailable(f"{error.code().name}: {error.details()}") from error
        return int(reply.quantity)

    async def get_stock(self, product_id: int) -> int:
        try:
            reply = await self.stub.GetStock(
                pb.GetStockRequest(product_id=product_id),
                timeout=self.deadline,
                metadata=self._metadata(),
            )
        except grpc.aio.AioRpcError as error:
            raise InventoryUnavailable(f"{error.code().name}: {error.details()}") from error
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
