"""03.7 — The gateway contract, stage 1: the shop's wire models."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from journey.targets import load

gm = load(__file__, "gateway_models")

MUG = {"sku": "MUG-01", "name": "Mug", "price_cents": 1250}
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def product_out(price_cents: int) -> Any:
    class Row:  # what an ORM row looks like to Pydantic
        id = 7
        sku = "MUG-01"
        name = "Mug"
        description = ""
        created_at = updated_at = NOW

    row = Row()
    row.price_cents = price_cents  # type: ignore[attr-defined]
    return gm.ProductOut.model_validate(row)


def items_of(order: Any) -> list[tuple[int, int]]:
    return [(item.product_id, item.quantity) for item in order.items]


def test_money_goes_in_as_integer_cents() -> None:
    product = gm.ProductIn(**MUG)
    assert product.price_cents == 1250
    assert gm.ProductIn(**{**MUG, "price_cents": 0}).price_cents == 0, "a free product is fine"
    for bad in (12.5, -1, gm.MAX_PRICE_CENTS + 1, "12.50"):
        with pytest.raises(ValidationError):
            gm.ProductIn(**{**MUG, "price_cents": bad})  # 12.5 cents is no amount of money
    with pytest.raises(ValidationError):
        gm.ProductPatch(price_cents=0.5)


@pytest.mark.parametrize(
    ("cents", "price"),
    [(1250, "12.50"), (5, "0.05"), (10, "0.10"), (0, "0.00"), (100_000_000, "1000000.00")],
)
def test_money_comes_out_as_an_exact_decimal_too(cents: int, price: str) -> None:
    product = product_out(cents)
    assert isinstance(product.price, Decimal), "price is a Decimal, never a float"
    assert product.price == Decimal(price)
    dumped = product.model_dump(mode="json")
    assert dumped["price"] == price, "in JSON, the price is a string with exactly two places"
    assert dumped["price_cents"] == cents, "the cents stay in the answer: clients compute with them"


def test_the_price_is_documented_as_output_only() -> None:
    assert "price" in product_out(1250).model_dump()
    schema = gm.ProductOut.model_json_schema(mode="serialization")
    assert schema["properties"]["price"].get("readOnly") is True
    assert "price" in schema["required"]
    assert "price" not in gm.ProductIn.model_json_schema()["properties"]


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x1b[31m", "\x7f", "\x9b"])
def test_text_with_control_characters_is_refused(bad: str) -> None:
    for field in ("name", "description"):  # the sku's pattern refuses them already
        with pytest.raises(ValidationError, match="control characters"):
            gm.ProductIn(**{**MUG, field: f"a{bad}b"})
    for field in ("name", "description"):
        with pytest.raises(ValidationError, match="control characters"):
            gm.ProductPatch(**{field: f"a{bad}b"})


def test_the_message_names_the_character() -> None:
    with pytest.raises(ValueError, match=r"U\+0000"):
        gm.reject_control_characters("nul\x00here")
    with pytest.raises(ValueError, match=r"U\+007F"):
        gm.reject_control_characters("del\x7f")


def test_ordinary_text_passes_unchanged() -> None:
    text = "Line one\nline two\r\n\tindented · Ünïcode ☕"
    assert gm.reject_control_characters(text) == text
    product = gm.ProductIn(**{**MUG, "name": "Mug ☕", "description": text})
    assert (product.name, product.description) == ("Mug ☕", text)


def test_the_shops_sku_pattern_and_lengths() -> None:
    for sku in ("MUG-01", "mug.01", "a_b-c.9"):
        assert gm.ProductIn(**{**MUG, "sku": sku}).sku == sku, "the sku is kept as sent"
    for bad in ({"sku": "MUG 01"}, {"sku": ""}, {"sku": "x" * 65}, {"name": ""}):
        with pytest.raises(ValidationError):
            gm.ProductIn(**{**MUG, **bad})


def test_unknown_fields_are_refused_on_the_way_in_only() -> None:
    with pytest.raises(ValidationError, match="price"):
        gm.ProductIn(sku="MUG-01", name="Mug", price="12.50")  # the old field name
    with pytest.raises(ValidationError):
        gm.ProductIn(**MUG, stock=3)
    with pytest.raises(ValidationError):
        gm.ProductPatch(price="1.00")
    with pytest.raises(ValidationError):
        gm.OrderIn(items=[{"product_id": 1, "quantity": 1}], note="gift")
    with pytest.raises(ValidationError):
        gm.OrderItem(product_id=1, quantity=1, price_cents=5)
    # an output model reads back what it wrote, its computed price included
    again = gm.ProductOut.model_validate_json(product_out(1250).model_dump_json())
    assert again.price == Decimal("12.50")


def test_a_patch_names_only_what_changes() -> None:
    assert gm.ProductPatch().model_dump(exclude_none=True) == {}
    assert gm.ProductPatch(price_cents=99).model_dump(exclude_none=True) == {"price_cents": 99}
    with pytest.raises(ValidationError):
        gm.ProductPatch(name="")


def test_ids_fit_a_bigint() -> None:
    assert gm.MAX_ID == 2**63 - 1
    biggest = gm.OrderIn(items=[{"product_id": gm.MAX_ID, "quantity": 1}])
    assert items_of(biggest) == [(gm.MAX_ID, 1)]
    for bad in (gm.MAX_ID + 1, 0, -1):
        with pytest.raises(ValidationError):
            gm.OrderIn(items=[{"product_id": bad, "quantity": 1}])


def test_items_of_the_same_product_are_merged_in_product_order() -> None:
    order = gm.OrderIn(
        items=[
            {"product_id": 3, "quantity": 1},
            {"product_id": 1, "quantity": 2},
            {"product_id": 3, "quantity": 4},
        ]
    )
    assert items_of(order) == [(1, 2), (3, 5)], "one item per product, sorted by product id"
    single = gm.OrderIn(items=[{"product_id": 9, "quantity": 2}, {"product_id": 2, "quantity": 1}])
    assert items_of(single) == [(2, 1), (9, 2)]
    full = gm.OrderIn(items=[{"product_id": 4, "quantity": 500}] * 2)
    assert items_of(full) == [(4, gm.MAX_QUANTITY)], "exactly the maximum, once merged, is fine"


def test_a_merged_item_obeys_the_maximum_too() -> None:
    with pytest.raises(ValidationError, match="product 7: 1200 in all"):
        gm.OrderIn(items=[{"product_id": 7, "quantity": 600}, {"product_id": 7, "quantity": 600}])


def test_order_bounds() -> None:
    for bad in (
        [],
        [{"product_id": 1, "quantity": 0}],
        [{"product_id": 1, "quantity": gm.MAX_QUANTITY + 1}],
        [{"product_id": n, "quantity": 1} for n in range(1, gm.MAX_LINES + 2)],
    ):
        with pytest.raises(ValidationError):
            gm.OrderIn(items=bad)
    most = [{"product_id": n, "quantity": 1} for n in range(1, gm.MAX_LINES + 1)]
    assert len(gm.OrderIn(items=most).items) == gm.MAX_LINES


def test_an_order_comes_back_with_its_merged_items() -> None:
    placed = gm.OrderIn(items=[{"product_id": 2, "quantity": 1}, {"product_id": 2, "quantity": 1}])
    order = gm.OrderOut(id="ord-1", user_id="u-1", status="placed", created_at=NOW, **dict(placed))
    assert order.model_dump(mode="json") == {
        "id": "ord-1",
        "user_id": "u-1",
        "status": "placed",
        "items": [{"product_id": 2, "quantity": 2}],
        "created_at": "2025-01-02T03:04:05Z",
    }
