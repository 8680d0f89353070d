"""03.7 — The gateway contract, stage 1: request and response models."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from pydantic import ValidationError

from journey.targets import load

gm = load(__file__, "gateway_models")


def test_product_create_normalises_and_validates() -> None:
    product = gm.ProductCreate(sku=" mug-0001 ", name=" Mug ", price="12.50")
    assert product.sku == "MUG-0001", "the sku is stripped and upper-cased before the pattern"
    assert product.name == "Mug"
    assert product.price == Decimal("12.50")
    for bad in (
        {"sku": "MUG-1", "name": "Mug", "price": "1"},
        {"sku": "MUG-0001", "name": "Mug", "price": "0"},
        {"sku": "MUG-0001", "name": "Mug", "price": "1.005"},
        {"sku": "MUG-0001", "name": "", "price": "1"},
        {"sku": "MUG-0001", "name": "Mug", "price": "1", "stock": 3},
    ):
        with pytest.raises(ValidationError):
            gm.ProductCreate(**bad)


def test_product_out_reads_attributes() -> None:
    class Row:  # what an ORM row looks like to Pydantic
        id = 7
        sku = "cup-0002"
        name = "Cup"
        price = Decimal("3.10")
        description = ""

    product = gm.ProductOut.model_validate(Row())
    assert product.sku == "CUP-0002", "ProductOut validates like ProductCreate"
    assert product.model_dump(mode="json")["price"] == "3.10", "money is a string in JSON"


def test_order_create_rules() -> None:
    order = gm.OrderCreate(
        lines=[{"product_id": 1, "quantity": 2}, {"product_id": 2, "quantity": 1}]
    )
    assert [line.product_id for line in order.lines] == [1, 2]
    with pytest.raises(ValidationError, match="product 1 appears twice"):
        gm.OrderCreate(lines=[{"product_id": 1, "quantity": 1}, {"product_id": 1, "quantity": 2}])
    with pytest.raises(ValidationError, match="product 3 appears twice"):
        gm.OrderCreate(
            lines=[
                {"product_id": 3, "quantity": 1},
                {"product_id": 4, "quantity": 1},
                {"product_id": 3, "quantity": 1},
            ]
        )  # the same product on two lines that are not next to each other
    with pytest.raises(ValidationError):
        gm.OrderCreate(lines=[])
    with pytest.raises(ValidationError):
        gm.OrderCreate(lines=[{"product_id": 1, "quantity": gm.MAX_QUANTITY + 1}])


def test_order_out_computes_exact_totals() -> None:
    order = gm.OrderOut(
        id=uuid4(),
        status="pending",
        created_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        lines=[
            {"product_id": 1, "quantity": 3, "unit_price": "0.10"},
            {"product_id": 2, "quantity": 1, "unit_price": "19.99"},
        ],
    )
    assert order.lines[0].line_total == Decimal("0.30"), "3 x 0.10 is exactly 0.30 in Decimal"
    assert order.total == Decimal("20.29"), "total is the sum of the line totals"
    dumped = order.model_dump(mode="json")
    assert dumped["total"] == "20.29", "computed fields are part of the JSON, as strings"
    assert dumped["lines"][1]["line_total"] == "19.99"
    empty = gm.OrderOut(id=uuid4(), status="cancelled", created_at=datetime.now(UTC), lines=[])
    assert isinstance(empty.total, Decimal), "no lines: the total is still a Decimal"
    assert empty.total == 0
    assert empty.model_dump(mode="json")["total"] == "0", "Decimal('0') is the string '0'"
    with pytest.raises(ValidationError):
        gm.OrderOut(id=uuid4(), status="shipped", created_at=datetime.now(UTC), lines=[])
    with pytest.raises(ValidationError):
        gm.OrderOut(id=uuid4(), status="pending", created_at=datetime(2025, 1, 1), lines=[])
