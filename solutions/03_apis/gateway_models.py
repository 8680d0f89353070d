"""03.7 — The gateway contract, stage 1: request and response models (core).

The shop's gateway takes products and orders in and gives them back out. Pydantic models are
that contract: what a client may send (``ProductCreate``, ``OrderCreate``) and what it gets
(``ProductOut``, ``OrderOut``). Money travels as a decimal *string* ("12.50"), never as a
float, and what the server computes (line totals, the order's total) is part of the output
but never of the input.

The fields, their constraints and the constants are given; write the bodies of the
validators and computed fields. Stage 2 (03.8) answers every error of the gateway in one
shape, problem+json, and uses these models.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
    model_validator,
)

SKU_PATTERN = r"^[A-Z]{3}-\d{4}$"
MAX_ORDER_LINES = 50
MAX_QUANTITY = 100

Money = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
OrderStatus = Literal["pending", "confirmed", "cancelled"]


# -- products ---------------------------------------------------------------------------------


class ProductCreate(BaseModel):
    """POST /api/v1/products (admin)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: str = Field(pattern=SKU_PATTERN, examples=["MUG-0001"])
    name: str = Field(min_length=1, max_length=120)
    price: Money
    description: str = Field(default="", max_length=2000)

    @field_validator("sku", mode="before")
    @classmethod
    def normalise_sku(cls, value: object) -> object:
        """Accept " mug-0001 " as "MUG-0001": strip and upper-case before the pattern check."""
        return value.strip().upper() if isinstance(value, str) else value


class ProductOut(ProductCreate):
    """A product as the gateway returns it; ``from_attributes`` reads it from an ORM row."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(ge=1)


# -- orders -----------------------------------------------------------------------------------


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: int = Field(ge=1)
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class OrderCreate(BaseModel):
    """POST /api/v1/orders: one line per product, at least one line."""

    model_config = ConfigDict(extra="forbid")

    lines: list[OrderLineIn] = Field(min_length=1, max_length=MAX_ORDER_LINES)

    @model_validator(mode="after")
    def one_line_per_product(self) -> Self:
        seen: set[int] = set()
        for line in self.lines:
            if line.product_id in seen:
                raise ValueError(
                    f"product {line.product_id} appears twice: order it once, with a quantity"
                )
            seen.add(line.product_id)
        return self


class OrderLineOut(BaseModel):
    product_id: int
    quantity: int
    unit_price: Decimal

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented pattern
    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class OrderOut(BaseModel):
    """An order as the gateway returns it; ``total`` is computed, never sent by a client."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    status: OrderStatus
    lines: list[OrderLineOut]
    created_at: AwareDatetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> Decimal:
        # Decimal(0) start: sum() of Decimals stays exact
        return sum((line.line_total for line in self.lines), Decimal(0))
