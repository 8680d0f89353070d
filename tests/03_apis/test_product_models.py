"""03.1 — Pydantic v2 models with field and model validators."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from journey.targets import load

pm = load(__file__, "product_models")


def product(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"sku": "ABC-1234", "name": "Mug", "price": "9.99"}
    data.update(overrides)
    return data


def test_a_valid_product_is_parsed_and_cleaned() -> None:
    got = pm.ProductIn(**product(sku="  abc-1234 ", name="  Blue mug  ", price="12.50"))
    assert got.sku == "ABC-1234", "the sku is stripped and upper-cased before the pattern check"
    assert got.name == "Blue mug", "surrounding whitespace is stripped from strings"
    assert got.price == Decimal("12.50"), "price is a Decimal, exactly as sent"
    assert isinstance(got.price, Decimal), "money is a Decimal, never a float"
    assert got.discount_percent == 0
    assert got.clearance is False
    assert got.tags == []


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("sku", "AB-1234", "two letters do not match the SKU pattern"),
        ("sku", "ABC-12345", "five digits do not match the SKU pattern"),
        ("sku", "ABC1234", "the dash is part of the SKU pattern"),
        ("name", "   ", "a name of only spaces is empty once stripped"),
        ("name", "x" * 101, "a name is at most 100 characters"),
        ("price", "0", "a price must be greater than 0"),
        ("price", "-1.00", "a negative price is refused"),
        ("price", "9.999", "a price has at most 2 decimal places"),
        ("price", "12345678901", "a price has at most 10 digits"),
        ("price", "cheap", "a price must be a number"),
        ("discount_percent", -1, "a discount is at least 0%"),
        ("discount_percent", 91, "a discount is at most MAX_DISCOUNT_PERCENT"),
        ("tags", ["ok", "  "], "an empty tag is refused"),
        ("tags", [f"t{i}" for i in range(11)], "at most 10 tags"),
        ("colour", "blue", "unknown fields are refused (extra='forbid')"),
    ],
)
def test_bad_input_is_a_validation_error(field: str, value: object, why: str) -> None:
    with pytest.raises(ValidationError) as caught:
        pm.ProductIn(**product(**{field: value}))
    locations = {error["loc"][0] for error in caught.value.errors() if error["loc"]}
    assert field in locations, f"{why}: the error should point at {field!r}, got {locations}"


def test_tags_are_normalised_and_deduplicated_in_order() -> None:
    got = pm.ProductIn(**product(tags=[" Kitchen", "gift", "KITCHEN ", "Gift", "blue"]))
    assert got.tags == ["kitchen", "gift", "blue"], (
        "tags are stripped and lower-cased, duplicates dropped, first occurrence order kept"
    )


def test_big_discount_needs_clearance() -> None:
    with pytest.raises(ValidationError) as caught:
        pm.ProductIn(**product(discount_percent=60))
    assert "clearance" in str(caught.value), "the error should say that clearance is required"
    got = pm.ProductIn(**product(discount_percent=60, clearance=True))
    assert got.discount_percent == 60, "with clearance=true a 60% discount is fine"
    at_threshold = pm.ProductIn(**product(discount_percent=pm.CLEARANCE_THRESHOLD_PERCENT))
    assert at_threshold.discount_percent == 50, "exactly the threshold needs no clearance"


@pytest.mark.parametrize(
    ("price", "discount", "clearance", "expected"),
    [
        ("9.99", 0, False, "9.99"),
        ("9.99", 15, False, "8.49"),  # 8.4915
        ("10.00", 50, False, "5.00"),
        ("0.05", 10, False, "0.05"),  # 0.045 rounds half UP to 0.05
        ("19.99", 90, True, "2.00"),  # 1.999
    ],
)
def test_final_price_is_rounded_half_up(
    price: str, discount: int, clearance: bool, expected: str
) -> None:
    got = pm.ProductIn(**product(price=price, discount_percent=discount, clearance=clearance))
    assert got.final_price == Decimal(expected), (
        f"{price} at {discount}% off costs {expected} (rounded half up to the cent)"
    )


def test_json_output_has_money_as_strings_and_the_computed_field() -> None:
    got = pm.ProductIn(**product(price="9.99", discount_percent=15)).model_dump(mode="json")
    assert got["price"] == "9.99", "Decimal serialises as a string in JSON: no float rounding"
    assert got["final_price"] == "8.49", "a computed_field appears in the serialised output"


def test_json_schema_documents_the_rules() -> None:
    pm.ProductIn(**product())  # the model must work before its schema means anything
    schema = pm.ProductIn.model_json_schema()
    sku = schema["properties"]["sku"]
    assert sku.get("pattern") == pm.SKU_PATTERN, "put the pattern on the field so clients see it"
    assert schema.get("additionalProperties") is False, "extra='forbid' shows in the schema"
    assert "final_price" not in schema.get("required", []), "a client never sends final_price"
