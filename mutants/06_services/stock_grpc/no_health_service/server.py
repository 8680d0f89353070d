"""start_server does not serve the standard gRPC health service.

gRPC answers every call with a status code. A client decides what to do from the code, so
each failure must carry the one that says what happened:

| situation | code |
|---|---|
| the request is malformed (bad SKU, quantity below 1) - retrying cannot help | INVALID_ARGUMENT |
| the SKU is well formed but no item has it | NOT_FOUND |
| the item exists, there are too few units: the state does not allow it now | FAILED_PRECONDITION |

In ``grpc.aio``, a handler fails a call with ``await context.abort(code, details)``, which
raises to end the handler; ``details`` is a message for people. Anything else a handler
raises becomes UNKNOWN, which tells the client nothing.

``start_server`` also serves the standard gRPC health service (``grpc.health.v1.Health``,
from the grpcio-health-checking package): the gRPC form of a readiness probe, which load
balancers and Kubernetes ask.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

import grpc

from . import stock_pb2, stock_pb2_grpc

SERVICE_NAME = "lab.stock.v1.Stock"  # the full name of the service in stock.proto
SKU_PATTERN = re.compile(r"[A-Z0-9-]{1,32}")  # a well-formed SKU, e.g. "MUG-01"
PREFIX_PATTERN = re.compile(r"[A-Z0-9-]{0,32}")  # a well-formed prefix: "" means every item


@dataclass
class StockItem:
    """An item as the store keeps it (given)."""

    sku: str
    name: str
    quantity: int
    price_cents: int


class InsufficientStock(Exception):
    """The store has fewer units than asked for (given)."""

    def __init__(self, item: StockItem, wanted: int) -> None:
        super().__init__(f"only {item.quantity} of {item.sku} in stock, asked for {wanted}")
        self.item = item
        self.wanted = wanted


class StockStore:
    """The items, in memory (given). Its methods are async, as a database's would be, so a
    test can make them slow."""

    def __init__(self, items: Iterable[StockItem] = ()) -> None:
        self.items = {item.sku: item for item in items}

    async def get(self, sku: str) -> StockItem | None:
        """The item with this SKU, or None."""
        return self.items.get(sku)

    async def take(self, sku: str, quantity: int) -> StockItem:
        """Takes ``quantity`` units and returns the item as it is afterwards.

        KeyError for an unknown SKU; InsufficientStock (taking nothing) when too few are left.
        """
        item = self.items[sku]
        if item.quantity < quantity:
            raise InsufficientStock(item, quantity)
        item.quantity -= quantity
        return item

    async def list(self, prefix: str = "") -> list[StockItem]:
        """The items whose SKU starts with ``prefix``, in SKU order."""
        return [self.items[sku] for sku in sorted(self.items) if sku.startswith(prefix)]


def to_message(item: StockItem) -> stock_pb2.Item:
    """The protobuf ``Item`` for a store item: same four fields."""
    return stock_pb2.Item(
        sku=item.sku, name=item.name, quantity=item.quantity, price_cents=item.price_cents
    )


async def _check_sku(sku: str, context: grpc.aio.ServicerContext) -> None:
    if not SKU_PATTERN.fullmatch(sku):
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"sku must be 1-32 characters of A-Z, 0-9 and '-', got {sku!r}",
        )


class StockServicer(stock_pb2_grpc.StockServicer):
    """The three calls of ``stock.proto`` over a ``StockStore`` (keep it as ``self.store``).

    - ``GetItem``: a SKU that does not match ``SKU_PATTERN`` (the empty string included) is
      INVALID_ARGUMENT, with details that contain "sku"; an unknown one is NOT_FOUND, with
      details that contain the SKU.
    - ``Reserve``: the SKU checked as in ``GetItem``; a quantity below 1 is INVALID_ARGUMENT
      with details that contain "quantity"; an unknown SKU is NOT_FOUND; too few units is
      FAILED_PRECONDITION (with the store's message) and takes nothing. On success it answers
      the item after the reservation.
    - ``ListItems``: streams the items whose SKU starts with ``request.prefix`` in SKU order, one
      message per item (an async generator: ``yield`` each message). A prefix that does not
      match ``PREFIX_PATTERN`` is INVALID_ARGUMENT.
    """

    def __init__(self, store: StockStore) -> None:
        self.store = store

    async def GetItem(
        self, request: stock_pb2.GetItemRequest, context: grpc.aio.ServicerContext
    ) -> stock_pb2.Item:
        await _check_sku(request.sku, context)
        item = await self.store.get(request.sku)
        if item is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no item has sku {request.sku!r}")
        assert item is not None  # abort() raised otherwise
        return to_message(item)

    async def Reserve(
        self, request: stock_pb2.ReserveRequest, context: grpc.aio.ServicerContext
    ) -> stock_pb2.Item:
        await _check_sku(request.sku, context)
        if request.quantity < 1:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"quantity must be at least 1, got {request.quantity}",
            )
        try:
            item = await self.store.take(request.sku, request.quantity)
        except KeyError:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no item has sku {request.sku!r}")
        except InsufficientStock as error:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(error))
        return to_message(item)

    async def ListItems(
        self, request: stock_pb2.ListItemsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[stock_pb2.Item]:
        if not PREFIX_PATTERN.fullmatch(request.prefix):
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"prefix must be up to 32 characters of A-Z, 0-9 and '-', got {request.prefix!r}",
            )
        for item in await self.store.list(request.prefix):
            yield to_message(item)


async def start_server(
    store: StockStore, address: str = "127.0.0.1:0"
) -> tuple[grpc.aio.Server, int]:
    """Starts a ``grpc.aio`` server for ``store`` on ``address`` and returns it with its port.

    With port 0 the system picks a free port: the one returned is where it listens. A port
    that is taken raises RuntimeError (turn off gRPC's ``grpc.so_reuseport`` option, which
    would share it silently). The server also answers the standard health service
    (``health.aio.HealthServicer``): SERVING for the whole server ("") and for
    ``SERVICE_NAME``. The caller stops it: ``await server.stop(grace_seconds)``.
    """
    # gRPC turns SO_REUSEPORT on by default: a second server on a taken port would start without
    # an error and take a share of its connections (and servers asking for port 0 at the same
    # moment can land on one port). Off, binding a taken port raises RuntimeError.
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    stock_pb2_grpc.add_StockServicer_to_server(StockServicer(store), server)
    port = server.add_insecure_port(address)
    await server.start()
    return server, port
