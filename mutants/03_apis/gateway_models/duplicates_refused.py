"""Refuses an order that names a product twice instead of merging its items.

03.7 — The gateway contract, stage 1: the shop's wire models (capstone).

Pydantic models are the shop's contract with its clients: what a client may send
(``ProductIn``, ``ProductPatch``, ``OrderIn``) and what it gets back (``ProductOut``,
``OrderOut``). The shop's gateway validates every body with them and its catalog and orders
services speak them too, so bad input stops at the door. Three rules make the contract:

- Money travels as an integer number of cents (``price_cents``: 1250 is 12.50): exact, what the
  database stores, and what payment APIs send. Where money is shown or computed it is a
  ``Decimal``, never a float: ``ProductOut.price`` is ``Decimal("12.50")``, "12.50" in JSON.
- Bad input gets a clear 422, never a 500 from the database. PostgreSQL cannot store a NUL
  character in text and its ``bigint`` stops at 2**63 - 1: every string a client sends is a
  ``SafeStr`` (no NUL, no control character but tab, newline and carriage return) and every
  id a ``DbId`` (1 to ``MAX_ID``).
- An order holds each product once. Items that name the same product are merged into one whose
  quantity is their sum (the merged item obeys ``MAX_QUANTITY`` too), in product-id order: two
  bodies that ask for the same things are the same order.

The fields, their constraints and the constants are given; write the bodies of
``reject_control_characters``, ``OrderIn.merge_items`` and ``ProductOut.price``. Stage 2
(03.8) answers every error of the gateway in one shape, problem+json, and uses these models.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
)

MAX_ID = 2**63 - 1  # PostgreSQL's bigint
SKU_PATTERN = r"^[A-Za-z0-9._-]+$"
MAX_PRICE_CENTS = 100_000_000  # a million in the shop's currency
MAX_QUANTITY = 1000  # of one product in one order
MAX_LINES = 50  # items in one order
CENT = Decimal("0.01")
# control characters that text may hold: a description has lines
ALLOWED_CONTROLS = frozenset("\t\n\r")


def reject_control_characters(value: str) -> str:
    """``value`` unchanged, or ValueError when it holds a control character other than tab,
    newline and carriage return: NUL, the other C0 codes, DEL, the C1 codes, every character
    whose ``unicodedata.category`` is "Cc". The message names the character by its code point:
    "must not contain control characters (U+0000)" for NUL, "(U+007F)" for DEL."""
    for char in value:
        if unicodedata.category(char) == "Cc" and char not in ALLOWED_CONTROLS:
            raise ValueError(f"must not contain control characters (U+{ord(char):04X})")
    return value


# Text a client sends: use it for every str that may reach the database (body, form, path).
SafeStr = Annotated[str, AfterValidator(reject_control_characters)]
# A database id: positive and within bigint.
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]


# -- products ---------------------------------------------------------------------------------


class ProductIn(BaseModel):
    """POST /api/v1/products (admin). An unknown field is refused: a client that sends
    ``price`` instead of ``price_cents`` learns it at once."""

    model_config = ConfigDict(extra="forbid")

    sku: SafeStr = Field(min_length=1, max_length=64, pattern=SKU_PATTERN, examples=["MUG-01"])
    name: SafeStr = Field(min_length=1, max_length=200)
    description: SafeStr = Field(default="", max_length=5000)
    price_cents: int = Field(ge=0, le=MAX_PRICE_CENTS, examples=[1250])


class ProductPatch(BaseModel):
    """PATCH /api/v1/products/{id} (admin): the fields to change; a field left out (or null)
    stays as it is."""

    model_config = ConfigDict(extra="forbid")

    name: SafeStr | None = Field(default=None, min_length=1, max_length=200)
    description: SafeStr | None = Field(default=None, max_length=5000)
    price_cents: int | None = Field(default=None, ge=0, le=MAX_PRICE_CENTS)


class ProductOut(BaseModel):
    """A product as the shop returns it; ``from_attributes`` reads it from an ORM row. Output
    models ignore unknown fields: a reader of a stored document keeps working when a field is
    added."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    name: str
    description: str
    price_cents: int
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented pattern
    @property
    def price(self) -> Decimal:
        """``price_cents`` as an amount with exactly two places: 1250 -> Decimal("12.50"),
        5 -> Decimal("0.05"); in JSON the string "12.50". Exact: Decimal, never a float."""
        return (Decimal(self.price_cents) / 100).quantize(CENT)


# -- orders -----------------------------------------------------------------------------------


class OrderItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: DbId
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class OrderIn(BaseModel):
    """POST /api/v1/orders: at least one item, at most MAX_LINES."""

    model_config = ConfigDict(extra="forbid")

    items: list[OrderItem] = Field(min_length=1, max_length=MAX_LINES)

    @field_validator("items")
    @classmethod
    def merge_items(cls, items: list[OrderItem]) -> list[OrderItem]:
        """One item per product, in product-id order: the quantities of items that name the
        same product are added up. A sum above MAX_QUANTITY is a ValueError naming the product:
        "product 7: 1200 in all, more than 1000"."""
        seen: set[int] = set()
        for item in items:
            if item.product_id in seen:
                raise ValueError(f"product {item.product_id} appears twice")
            seen.add(item.product_id)
        return sorted(items, key=lambda item: item.product_id)


class OrderOut(BaseModel):
    """An order as the shop returns it: its items as merged when it was placed."""

    id: str
    user_id: str
    status: str
    items: list[OrderItem]
    created_at: datetime
