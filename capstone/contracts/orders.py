"""The orders service's HTTP bodies (lessons 03 and 12).

An order holds each product once. Lines that name the same product are merged into one line
whose quantity is their sum (and the merged line obeys the same per-line maximum), and the lines
are kept in product-id order: the order a client gets back on 201 is the order it reads later,
and two bodies that ask for the same things are the same request for the ``Idempotency-Key``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from capstone.common.validation import MAX_ID

MAX_QUANTITY = 1000
MAX_LINES = 50


class OrderItem(BaseModel):
    product_id: int = Field(gt=0, le=MAX_ID)
    quantity: int = Field(gt=0, le=MAX_QUANTITY)


class OrderIn(BaseModel):
    items: list[OrderItem] = Field(min_length=1, max_length=MAX_LINES)

    @field_validator("items")
    @classmethod
    def one_line_per_product(cls, items: list[OrderItem]) -> list[OrderItem]:
        wanted: dict[int, int] = {}
        for item in items:
            wanted[item.product_id] = wanted.get(item.product_id, 0) + item.quantity
        for product_id, quantity in wanted.items():
            if quantity > MAX_QUANTITY:
                raise ValueError(
                    f"product {product_id}: {quantity} in all, more than {MAX_QUANTITY}"
                )
        return [OrderItem(product_id=p, quantity=q) for p, q in sorted(wanted.items())]


class OrderOut(BaseModel):
    id: str
    user_id: str
    status: str
    items: list[OrderItem]
    created_at: datetime


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None


class StockIn(BaseModel):
    quantity: int = Field(ge=0, le=1_000_000)


class StockOut(BaseModel):
    product_id: int
    quantity: int
