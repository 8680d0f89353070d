"""How orders' gRPC client maps inventory's status codes and retries through lesson 12's
resilient client, with a fake stub: no server runs."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from capstone.contracts import inventory_pb2 as pb
from capstone.contracts.orders import OrderItem
from capstone.orders.inventory_client import (
    BREAKER_FAILURES,
    RETRIES,
    InsufficientStock,
    InvalidReservation,
    InventoryClient,
    InventoryUnavailable,
)


def rpc_error(code: grpc.StatusCode, details: str = "") -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


class FakeStub:
    """Answers each call with the next scripted outcome: a status code to fail with, or OK."""

    def __init__(self, *outcomes: grpc.StatusCode | None) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    async def _next(self, reply):
        self.calls += 1
        code = self.outcomes.pop(0) if self.outcomes else None
        if code is not None:
            raise rpc_error(code, f"{code.name} from the fake")
        return reply

    async def Reserve(self, request, timeout, metadata):
        return await self._next(pb.ReserveReply(order_id=request.order_id, replayed=False))

    async def Release(self, request, timeout, metadata):
        return await self._next(pb.ReleaseReply(order_id=request.order_id, released=True))

    async def GetStock(self, request, timeout, metadata):
        return await self._next(pb.StockLevel(product_id=request.product_id, quantity=7))


ITEMS = [OrderItem(product_id=1, quantity=1)]


def client(stub: FakeStub) -> InventoryClient:
    return InventoryClient("unused:1", deadline_seconds=2.0, stub=stub)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (grpc.StatusCode.FAILED_PRECONDITION, InsufficientStock),
        (grpc.StatusCode.INVALID_ARGUMENT, InvalidReservation),
        (grpc.StatusCode.INTERNAL, InventoryUnavailable),
        (grpc.StatusCode.NOT_FOUND, InventoryUnavailable),
    ],
)
def test_reserve_maps_each_status_and_does_not_retry_it(code, error):
    stub = FakeStub(code)
    with pytest.raises(error):
        asyncio.run(client(stub).reserve("o1", ITEMS))
    assert stub.calls == 1, f"{code.name} is final"


def test_reserve_retries_what_may_pass_then_succeeds():
    stub = FakeStub(grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
    assert asyncio.run(client(stub).reserve("o1", ITEMS)) is False
    assert stub.calls == 3


def test_reserve_gives_up_after_its_retries_with_a_retry_after():
    stub = FakeStub(*[grpc.StatusCode.UNAVAILABLE] * RETRIES)
    with pytest.raises(InventoryUnavailable, match=r"retries exhausted \(UNAVAILABLE") as gave_up:
        asyncio.run(client(stub).reserve("o1", ITEMS))
    assert stub.calls == RETRIES
    assert gave_up.value.retry_after >= 1


def test_the_circuit_opens_after_failures_in_a_row_and_fails_at_once():
    stub = FakeStub(*[grpc.StatusCode.UNAVAILABLE] * BREAKER_FAILURES)
    inventory = client(stub)

    async def scenario() -> None:
        while stub.outcomes:
            with pytest.raises(InventoryUnavailable):
                await inventory.reserve("o1", ITEMS)
        calls = stub.calls
        with pytest.raises(InventoryUnavailable, match="circuit open"):
            await inventory.reserve("o1", ITEMS)
        assert stub.calls == calls, "an open circuit sends nothing"

    asyncio.run(scenario())


def test_release_and_reads_map_any_error_to_unavailable():
    assert asyncio.run(client(FakeStub()).release("o1")) is True
    assert asyncio.run(client(FakeStub()).get_stock(1)) == 7
    assert asyncio.run(client(FakeStub(grpc.StatusCode.UNAVAILABLE)).release("o1")) is True
    with pytest.raises(InventoryUnavailable):
        asyncio.run(client(FakeStub(*[grpc.StatusCode.UNAVAILABLE] * RETRIES)).release("o1"))
    with pytest.raises(InventoryUnavailable):
        asyncio.run(client(FakeStub(grpc.StatusCode.INTERNAL)).get_stock(1))
