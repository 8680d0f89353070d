"""gRPC end to end: a server and a client on a real loopback port.

    uv run python lessons/06_services/examples/04_grpc_stock.py

It serves a small part of ``lessons/06_services/protos/stock.proto`` (GetItem and the
ListItems stream) with ``grpc.aio`` on 127.0.0.1 and a free port, then, as a client:

1. a unary call that succeeds;
2. a call that fails with NOT_FOUND (``context.abort`` on the server, ``AioRpcError`` here);
3. a call to a slow item with a 0.2 s deadline: DEADLINE_EXCEEDED after 0.2 s, however long the
   server would take;
4. a server-streaming call, read message by message;
5. a call to a port where nothing listens: UNAVAILABLE at once.

The server stops with a grace period at the end. Exercise 06.4 builds the full service.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from pathlib import Path

import grpc

# The generated code lives in the exercise's package (lesson folders start with a digit, so
# they cannot be imported by name): put its folder on sys.path and import the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "solutions" / "06_services"))
from stock_grpc import stock_pb2, stock_pb2_grpc

ITEMS = {
    "MUG-01": stock_pb2.Item(sku="MUG-01", name="Mug", quantity=5, price_cents=1200),
    "MUG-02": stock_pb2.Item(sku="MUG-02", name="Tall mug", quantity=0, price_cents=1500),
    "SLOW-01": stock_pb2.Item(sku="SLOW-01", name="Answered late", quantity=1, price_cents=1),
}


class Stock(stock_pb2_grpc.StockServicer):
    async def GetItem(self, request, context):
        if request.sku == "SLOW-01":
            await asyncio.sleep(5)  # a server that takes too long
        if request.sku not in ITEMS:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no item has sku {request.sku!r}")
        return ITEMS[request.sku]

    async def ListItems(self, request, context):
        for sku in sorted(ITEMS):
            if sku.startswith(request.prefix):
                yield ITEMS[sku]  # one message on the stream per item


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def main() -> None:
    # SO_REUSEPORT off: a taken port fails instead of being shared (lesson 06)
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    stock_pb2_grpc.add_StockServicer_to_server(Stock(), server)
    port = server.add_insecure_port("127.0.0.1:0")  # 0: the system picks a free port
    await server.start()
    print(f"gRPC server listening on 127.0.0.1:{port}")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = stock_pb2_grpc.StockStub(channel)

            item = await stub.GetItem(stock_pb2.GetItemRequest(sku="MUG-01"), timeout=2)
            print(f"1. GetItem(MUG-01) -> {item.name!r}, {item.quantity} in stock")

            try:
                await stub.GetItem(stock_pb2.GetItemRequest(sku="CUP-99"), timeout=2)
            except grpc.aio.AioRpcError as error:
                print(f"2. GetItem(CUP-99) -> {error.code().name}: {error.details()}")

            started = time.perf_counter()
            try:
                await stub.GetItem(stock_pb2.GetItemRequest(sku="SLOW-01"), timeout=0.2)
            except grpc.aio.AioRpcError as error:
                elapsed = time.perf_counter() - started
                print(f"3. GetItem(SLOW-01) with 0.2s -> {error.code().name} after {elapsed:.2f}s")

            call = stub.ListItems(stock_pb2.ListItemsRequest(prefix="MUG"), timeout=2)
            print("4. ListItems(MUG) streams:", [message.sku async for message in call])

        async with grpc.aio.insecure_channel(f"127.0.0.1:{closed_port()}") as nowhere:
            started = time.perf_counter()
            try:
                await stock_pb2_grpc.StockStub(nowhere).GetItem(
                    stock_pb2.GetItemRequest(sku="MUG-01"), timeout=2
                )
            except grpc.aio.AioRpcError as error:
                elapsed = time.perf_counter() - started
                print(f"5. nothing listening -> {error.code().name} after {elapsed:.3f}s")
    finally:
        await server.stop(grace=1.0)  # in-flight calls get 1 s to finish, then are cancelled
        print("server stopped")


if __name__ == "__main__":
    asyncio.run(main())
