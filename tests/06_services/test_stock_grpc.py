"""06.4 A gRPC stock service and its client: status codes, deadlines, a server stream.

The server tests call the server through the generated stub, the way any client would; the
client tests run a small servicer of their own. Every server binds 127.0.0.1:0, and is stopped
with a grace period in ``finally``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
import pytest

from journey.targets import load

server_mod = load(__file__, "stock_grpc.server")
client_mod = load(__file__, "stock_grpc.client")
pb = load(__file__, "stock_grpc.stock_pb2")
pb_grpc = load(__file__, "stock_grpc.stock_pb2_grpc")

Code = grpc.StatusCode
GRACE_SECONDS = 0.5
MARGIN = 2.0  # slack for a busy machine


def catalog() -> Any:
    return server_mod.StockStore(
        [
            server_mod.StockItem("MUG-01", "Mug", 5, 1200),
            server_mod.StockItem("MUG-02", "Tall mug", 0, 1500),
            server_mod.StockItem("PLATE-01", "Plate", 12, 900),
            server_mod.StockItem("BOWL-01", "Bowl", 3, 1100),
        ]
    )


@asynccontextmanager
async def stock_server(store: Any) -> AsyncIterator[Any]:
    """Starts the learner's server on a free port; yields a stub connected to it."""
    server, port = await server_mod.start_server(store, "127.0.0.1:0")
    try:
        assert isinstance(port, int), "start_server returns the port it listens on"
        assert port > 0, "the port the system picked, not the 0 that was asked for"
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield pb_grpc.StockStub(channel)
    finally:
        await server.stop(GRACE_SECONDS)


def test_a_taken_port_is_refused_not_shared(run) -> None:
    async def main() -> None:
        server, port = await server_mod.start_server(catalog(), "127.0.0.1:0")
        try:
            try:
                second, _ = await server_mod.start_server(catalog(), f"127.0.0.1:{port}")
            except RuntimeError:
                return  # refused: the port stays the first server's alone
            await second.stop(None)
            pytest.fail(
                "a second server started on a port in use: gRPC shared it (its SO_REUSEPORT "
                "option is on unless the server is made with ('grpc.so_reuseport', 0))"
            )
        finally:
            await server.stop(GRACE_SECONDS)

    run(main())


async def rpc_error(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call
    return failed.value


# -- the server -----------------------------------------------------------------------------


def test_get_item_answers_the_item(run) -> None:
    async def main():
        async with stock_server(catalog()) as stub:
            return await stub.GetItem(pb.GetItemRequest(sku="MUG-01"), timeout=5)

    item = run(main())
    assert (item.sku, item.name, item.quantity, item.price_cents) == ("MUG-01", "Mug", 5, 1200)


@pytest.mark.parametrize("sku", ["", "mug-01", "MUG 01", "M" * 33, "MUG_01"])
def test_a_malformed_sku_is_invalid_argument(run, sku: str) -> None:
    async def main():
        async with stock_server(catalog()) as stub:
            return await rpc_error(stub.GetItem(pb.GetItemRequest(sku=sku), timeout=5))

    error = run(main())
    assert error.code() == Code.INVALID_ARGUMENT, (
        f"SKU {sku!r} can never exist: INVALID_ARGUMENT (the request is wrong, retrying cannot "
        f"help), not {error.code().name}"
    )
    assert "sku" in error.details().lower(), "the details say what was wrong: the sku"


def test_the_longest_valid_sku_is_looked_up(run) -> None:
    async def main():
        async with stock_server(catalog()) as stub:
            return await rpc_error(stub.GetItem(pb.GetItemRequest(sku="M" * 32), timeout=5))

    assert run(main()).code() == Code.NOT_FOUND, "32 characters is still a well-formed SKU"


def test_an_unknown_sku_is_not_found(run) -> None:
    async def main():
        async with stock_server(catalog()) as stub:
            return await rpc_error(stub.GetItem(pb.GetItemRequest(sku="CUP-99"), timeout=5))

    error = run(main())
    assert error.code() == Code.NOT_FOUND, (
        f"no item has this well-formed SKU: NOT_FOUND, not {error.code().name} (and never an "
        "empty Item: a default message is not an answer)"
    )
    assert "CUP-99" in error.details(), "the details name the SKU"


def test_reserve_takes_units_and_answers_the_item_after(run) -> None:
    store = catalog()

    async def main():
        async with stock_server(store) as stub:
            first = await stub.Reserve(pb.ReserveRequest(sku="MUG-01", quantity=2), timeout=5)
            last = await stub.Reserve(pb.ReserveRequest(sku="MUG-01", quantity=3), timeout=5)
            return first, last

    first, last = run(main())
    assert (first.quantity, last.quantity) == (3, 0), "5 - 2 = 3, then all 3 remaining"
    assert store.items["MUG-01"].quantity == 0


@pytest.mark.parametrize("quantity", [0, -1])
def test_reserving_less_than_one_is_invalid_argument(run, quantity: int) -> None:
    store = catalog()

    async def main():
        async with stock_server(store) as stub:
            request = pb.ReserveRequest(sku="MUG-01", quantity=quantity)
            return await rpc_error(stub.Reserve(request, timeout=5))

    error = run(main())
    assert error.code() == Code.INVALID_ARGUMENT, f"quantity {quantity}: got {error.code().name}"
    assert "quantity" in error.details()
    assert store.items["MUG-01"].quantity == 5, "nothing is taken"


def test_reserve_checks_the_sku_too(run) -> None:
    async def main():
        async with stock_server(catalog()) as stub:
            bad = await rpc_error(stub.Reserve(pb.ReserveRequest(sku="bad", quantity=1), timeout=5))
            unknown = await rpc_error(
                stub.Reserve(pb.ReserveRequest(sku="CUP-99", quantity=1), timeout=5)
            )
            return bad.code(), unknown.code()

    assert run(main()) == (Code.INVALID_ARGUMENT, Code.NOT_FOUND)


def test_too_little_stock_is_failed_precondition_and_takes_nothing(run) -> None:
    store = catalog()

    async def main():
        async with stock_server(store) as stub:
            request = pb.ReserveRequest(sku="BOWL-01", quantity=4)
            return await rpc_error(stub.Reserve(request, timeout=5))

    error = run(main())
    assert error.code() == Code.FAILED_PRECONDITION, (
        "the request is fine but the state does not allow it now: FAILED_PRECONDITION, not "
        f"{error.code().name}"
    )
    assert "only 3" in error.details(), "the details say how many are left"
    assert store.items["BOWL-01"].quantity == 3, "a refused reservation takes nothing"


def test_list_items_streams_the_matching_items_in_sku_order(run) -> None:
    async def main():
        async with stock_server(catalog()) as stub:
            every = [m.sku async for m in stub.ListItems(pb.ListItemsRequest(), timeout=5)]
            mugs = [m async for m in stub.ListItems(pb.ListItemsRequest(prefix="MUG"), timeout=5)]
            none = [m async for m in stub.ListItems(pb.ListItemsRequest(prefix="CUP"), timeout=5)]
            return every, mugs, none

    every, mugs, none = run(main())
    assert every == ["BOWL-01", "MUG-01", "MUG-02", "PLATE-01"], "every item, in SKU order"
    assert [(m.sku, m.quantity) for m in mugs] == [("MUG-01", 5), ("MUG-02", 0)], (
        "only the SKUs that start with the prefix, one message each, all fields set"
    )
    assert none == [], "no match: the stream ends without a message (not an error)"


def test_list_items_refuses_a_malformed_prefix(run) -> None:
    async def main():
        async with stock_server(catalog()) as stub:
            call = stub.ListItems(pb.ListItemsRequest(prefix="mug"), timeout=5)
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                async for _ in call:
                    pass
            return failed.value.code()

    assert run(main()) == Code.INVALID_ARGUMENT


def test_a_client_may_stop_reading_a_stream_early(run) -> None:
    store = server_mod.StockStore(
        server_mod.StockItem(f"ITEM-{n:03}", f"Item {n}", n, 100) for n in range(200)
    )

    async def main():
        async with stock_server(store) as stub:
            call = stub.ListItems(pb.ListItemsRequest(prefix="ITEM"), timeout=5)
            first = await call.read()
            call.cancel()
            after = await stub.GetItem(pb.GetItemRequest(sku="ITEM-007"), timeout=5)
            return first.sku, after.quantity

    assert run(main()) == ("ITEM-000", 7), "the server goes on serving after a cancelled stream"


def test_the_server_answers_the_standard_health_check(run) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    async def main():
        server, port = await server_mod.start_server(catalog(), "127.0.0.1:0")
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                health = health_pb2_grpc.HealthStub(channel)
                return [
                    (await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5))
                    for name in ("", server_mod.SERVICE_NAME)
                ]
        finally:
            await server.stop(GRACE_SECONDS)

    serving = health_pb2.HealthCheckResponse.SERVING
    assert [r.status for r in run(main())] == [serving, serving], (
        "the health service says SERVING for the server ('') and for lab.stock.v1.Stock"
    )


# -- the client ---------------------------------------------------------------------------


class ScriptedStock(pb_grpc.StockServicer):
    """A servicer for the client tests: answers from a dict, fails on cue, or hangs."""

    def __init__(self, hang: asyncio.Event | None = None) -> None:
        self.hang = hang
        self.items = {"MUG-01": pb.Item(sku="MUG-01", name="Mug", quantity=5, price_cents=1200)}

    async def _maybe_hang(self) -> None:
        if self.hang is not None:
            await self.hang.wait()

    async def GetItem(self, request, context):
        await self._maybe_hang()
        if request.sku == "bad":
            await context.abort(Code.INVALID_ARGUMENT, "sku is malformed")
        if request.sku == "boom":
            await context.abort(Code.INTERNAL, "something broke")
        if request.sku not in self.items:
            await context.abort(Code.NOT_FOUND, f"no item has sku {request.sku!r}")
        return self.items[request.sku]

    async def Reserve(self, request, context):
        await self._maybe_hang()
        item = self.items[request.sku]
        if item.quantity < request.quantity:
            await context.abort(Code.FAILED_PRECONDITION, f"only {item.quantity} left")
        item.quantity -= request.quantity
        return item

    async def ListItems(self, request, context):
        for n in range(3):
            if n == 2:
                await self._maybe_hang()  # the stream stalls after two messages
            yield pb.Item(sku=f"{request.prefix}{n}", name=f"item {n}", quantity=n, price_cents=10)


@asynccontextmanager
async def scripted_server(servicer: ScriptedStock) -> AsyncIterator[str]:
    # without SO_REUSEPORT: servers started at the same moment never share a port
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    pb_grpc.add_StockServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        if servicer.hang is not None:
            servicer.hang.set()
        await server.stop(GRACE_SECONDS)


def test_client_returns_items_as_dataclasses(run) -> None:
    async def main():
        async with (
            scripted_server(ScriptedStock()) as target,
            client_mod.StockClient(target, deadline_seconds=5) as stock,
        ):
            return (
                await stock.get_item("MUG-01"),
                await stock.reserve("MUG-01", 2),
                await stock.list_items("CUP-"),
            )

    item, reserved, listed = run(main())
    assert item == client_mod.Item("MUG-01", "Mug", 5, 1200)
    assert reserved.quantity == 3
    assert listed == [client_mod.Item(f"CUP-{n}", f"item {n}", n, 10) for n in range(3)], (
        "list_items reads the whole server stream, in order"
    )


@pytest.mark.parametrize(
    ("sku", "exception", "code"),
    [
        ("CUP-99", "ItemNotFound", Code.NOT_FOUND),
        ("bad", "InvalidRequest", Code.INVALID_ARGUMENT),
        ("boom", "StockError", Code.INTERNAL),
    ],
)
def test_client_turns_status_codes_into_exceptions(run, sku, exception, code) -> None:
    async def main():
        async with (
            scripted_server(ScriptedStock()) as target,
            client_mod.StockClient(target, deadline_seconds=5) as stock,
        ):
            with pytest.raises(client_mod.StockError) as failed:
                await stock.get_item(sku)
            return failed.value

    error = run(main())
    assert type(error) is getattr(client_mod, exception), (
        f"{code.name} becomes {exception}, got {type(error).__name__}"
    )
    assert error.code == code
    assert error.details, "the server's details are kept"
    assert isinstance(error.__cause__, grpc.aio.AioRpcError), "raise ... from the AioRpcError"


def test_client_reports_out_of_stock(run) -> None:
    async def main():
        async with (
            scripted_server(ScriptedStock()) as target,
            client_mod.StockClient(target, deadline_seconds=5) as stock,
        ):
            with pytest.raises(client_mod.OutOfStock) as failed:
                await stock.reserve("MUG-01", 6)
            return failed.value

    error = run(main())
    assert error.code == Code.FAILED_PRECONDITION
    assert error.details == "only 5 left"


@pytest.mark.parametrize("call", ["get_item", "reserve", "list_items"])
def test_a_slow_server_gives_deadline_exceeded_within_the_deadline(run, call: str) -> None:
    deadline = 0.2

    async def main():
        async with (
            scripted_server(ScriptedStock(hang=asyncio.Event())) as target,
            client_mod.StockClient(target, deadline_seconds=deadline) as stock,
        ):
            calls = {
                "get_item": lambda: stock.get_item("MUG-01"),
                "reserve": lambda: stock.reserve("MUG-01", 1),
                "list_items": lambda: stock.list_items("CUP-"),  # 2 messages, then it stalls
            }
            started = time.perf_counter()
            with pytest.raises(client_mod.StockError) as failed:
                await calls[call]()
            return failed.value, time.perf_counter() - started

    error, elapsed = run(main(), limit=deadline + 6)
    assert type(error) is client_mod.StockTimeout, (
        f"{call}: a server that does not answer in time gives DEADLINE_EXCEEDED -> StockTimeout, "
        f"got {type(error).__name__}"
    )
    assert error.code == Code.DEADLINE_EXCEEDED
    assert elapsed < deadline + MARGIN, (
        f"{call} took {elapsed:.2f}s for a {deadline}s deadline: pass timeout= on EVERY call "
        "(for a stream it covers the whole stream)"
    )


def test_nothing_listening_is_unavailable_at_once(run, closed_port: int) -> None:
    async def main():
        async with client_mod.StockClient(
            f"127.0.0.1:{closed_port}", deadline_seconds=MARGIN + 3
        ) as stock:
            started = time.perf_counter()
            with pytest.raises(client_mod.StockError) as failed:
                await stock.get_item("MUG-01")
            return failed.value, time.perf_counter() - started

    error, elapsed = run(main())
    assert type(error) is client_mod.StockUnavailable, (
        "nothing listens there: UNAVAILABLE -> StockUnavailable (do not set wait_for_ready, "
        f"which waits for the deadline instead); got {type(error).__name__}"
    )
    assert error.code == Code.UNAVAILABLE
    assert elapsed < MARGIN, f"a refused connection fails fast, not after {elapsed:.2f}s"


def test_a_closed_client_makes_no_more_calls(run) -> None:
    async def main():
        async with scripted_server(ScriptedStock()) as target:
            stock = client_mod.StockClient(target, deadline_seconds=5)
            async with stock:
                await stock.get_item("MUG-01")
            with pytest.raises(grpc.aio.UsageError, match="Channel is closed"):
                await stock.get_item("MUG-01")  # leaving `async with` closed the channel

    run(main())


@pytest.mark.parametrize("target", ["127.0.0.1", "127.0.0.1:", ":50051", "127.0.0.1:http"])
def test_client_refuses_a_target_that_is_not_host_port(target: str) -> None:
    with pytest.raises(ValueError, match="host:port"):
        client_mod.StockClient(target)


@pytest.mark.parametrize("deadline", [0, -1])
def test_client_refuses_a_deadline_that_is_not_positive(deadline: float) -> None:
    with pytest.raises(ValueError, match="deadline_seconds"):
        client_mod.StockClient("127.0.0.1:50051", deadline_seconds=deadline)
