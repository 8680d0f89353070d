"""06.4 (client) A stock client with a deadline on every call and errors you can act on.

A gRPC call without a deadline can wait forever for a server that hangs. Give every call one
(``timeout=`` seconds on the stub's method): when it passes, the call ends with
DEADLINE_EXCEEDED on the client, whatever the server is doing, and the server sees its side
cancelled. A call on a server stream shares one deadline for the whole stream.

A failed call raises ``grpc.aio.AioRpcError``; ``.code()`` is the status code and
``.details()`` the server's message. This client turns the codes a caller acts on into
exceptions of its own, so code that uses it never imports grpc to handle an error:

| status code | exception | what a caller does |
|---|---|---|
| NOT_FOUND | ItemNotFound | answer 404 |
| INVALID_ARGUMENT | InvalidRequest | fix the request; never retry it |
| FAILED_PRECONDITION | OutOfStock | tell the user; retrying now will not help |
| DEADLINE_EXCEEDED | StockTimeout | maybe retry, with a budget (lesson 12) |
| UNAVAILABLE | StockUnavailable | retry later or elsewhere (another instance) |
| any other | StockError | log it |
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Self

import grpc

from . import stock_pb2, stock_pb2_grpc  # noqa: F401 - you will need them


@dataclass(frozen=True)
class Item:
    """An item as the client returns it (given)."""

    sku: str
    name: str
    quantity: int
    price_cents: int


class StockError(Exception):
    """A call to the stock service failed (given). ``code`` is the gRPC status code and
    ``details`` the server's message (or gRPC's, for DEADLINE_EXCEEDED and UNAVAILABLE)."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details


class ItemNotFound(StockError):
    """NOT_FOUND (given)."""


class InvalidRequest(StockError):
    """INVALID_ARGUMENT (given)."""


class OutOfStock(StockError):
    """FAILED_PRECONDITION (given)."""


class StockTimeout(StockError):
    """DEADLINE_EXCEEDED (given)."""


class StockUnavailable(StockError):
    """UNAVAILABLE (given)."""


ERRORS: dict[grpc.StatusCode, type[StockError]] = {
    grpc.StatusCode.NOT_FOUND: ItemNotFound,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidRequest,
    grpc.StatusCode.FAILED_PRECONDITION: OutOfStock,
    grpc.StatusCode.DEADLINE_EXCEEDED: StockTimeout,
    grpc.StatusCode.UNAVAILABLE: StockUnavailable,
}


def to_error(error: grpc.aio.AioRpcError) -> StockError:
    """The exception for a failed call: the class from ERRORS for its code (StockError for any
    other code), with the call's ``code()`` and ``details()``."""
    raise NotImplementedError("06.4: look the code up in ERRORS")


class StockClient:
    """A client of the stock service at ``target`` (``"host:port"``).

    ``async with StockClient("127.0.0.1:50051", deadline_seconds=0.5) as stock:``

    - Every call has a deadline of ``deadline_seconds`` (> 0, else a ValueError whose message
      contains "deadline_seconds"); ``list_items`` has one for the whole stream.
    - A ``target`` that is not ``host:port`` (no colon, an empty host or a port that is not a
      number) is a ValueError whose message contains "host:port".
    - A call fails fast when the server cannot be reached: StockUnavailable, not a wait until
      the deadline (gRPC's default: do not set ``wait_for_ready``).
    - Every failed call raises the exception from ``to_error``, with the AioRpcError as its
      ``__cause__``.
    - ``close()`` (or leaving ``async with``) closes the channel; a call after it fails.
    Create it inside a running event loop (in an ``async def``).
    """

    def __init__(self, target: str, *, deadline_seconds: float = 1.0) -> None:
        raise NotImplementedError("06.4: validate, open one channel and a StockStub on it")

    async def close(self) -> None:
        raise NotImplementedError("06.4: close the channel")

    async def __aenter__(self) -> Self:
        raise NotImplementedError("06.4: return self")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        raise NotImplementedError("06.4: close")

    async def get_item(self, sku: str) -> Item:
        """The item with this SKU."""
        raise NotImplementedError("06.4: GetItem with a deadline; errors via to_error")

    async def reserve(self, sku: str, quantity: int) -> Item:
        """Reserves ``quantity`` units; returns the item after the reservation."""
        raise NotImplementedError("06.4: Reserve with a deadline; errors via to_error")

    async def list_items(self, prefix: str = "") -> list[Item]:
        """Every item whose SKU starts with ``prefix``, read from the server stream in order."""
        raise NotImplementedError("06.4: read the ListItems stream under one deadline")
