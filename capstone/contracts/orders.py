"""The orders service's HTTP bodies (lessons 03 and 12).

The order models are lesson 03's capstone piece (exercise 03.7, ``gateway_models``, through
capstone.pieces). An order holds each product once: items that name the same product are merged
into one whose quantity is their sum (the merged item obeys the same per-item maximum), kept in
product-id order. So the order a client gets back on 201 is the order it reads later, and two
bodies that ask for the same things are the same request for the ``Idempotency-Key``.

The page of orders and the stock bodies are the shop's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from capstone.pieces import piece

wire = piece("gateway_models")

if TYPE_CHECKING:  # a piece's classes are Any to mypy: see capstone.contracts.catalog
    OrderItem = Any
    OrderIn = Any
    OrderOut = Any
else:
    OrderItem = wire.OrderItem
    OrderIn = wire.OrderIn
    OrderOut = wire.OrderOut


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None


class StockIn(BaseModel):
    quantity: int = Field(ge=0, le=1_000_000)


class StockOut(BaseModel):
    product_id: int
    quantity: int
