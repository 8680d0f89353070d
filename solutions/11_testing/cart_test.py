"""11.2 Test a shopping cart (warm-up): fixtures (plain, built on other fixtures, and a
factory), parametrize with ids, and tests that do not depend on an order the code leaves open.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from journey.targets import load

carts = load(__file__, "cart")  # a module: annotations below say Any for its Cart


@pytest.fixture
def cart() -> Any:
    """An empty cart: every test that asks for one gets its own."""
    return carts.Cart()


@pytest.fixture
def filled_cart(cart: Any) -> Any:
    """Four apples at 0.50 and one loaf at 2.25: a subtotal of 4.25."""
    cart.add("apple", Decimal("0.50"), 4)
    cart.add("bread", Decimal("2.25"))
    return cart


@pytest.fixture
def cart_worth() -> Callable[[str], Any]:
    """A factory: ``cart_worth("50.00")`` is a new cart with that subtotal."""

    def make(amount: str) -> Any:
        made = carts.Cart()
        made.add("gift", Decimal(amount))
        return made

    return make


def _contents(cart: Any) -> dict[str, tuple[Decimal, int]]:
    """The lines by SKU: what the cart holds, whatever order lines() gives them in."""
    return {line.sku: (line.unit_price, line.quantity) for line in cart.lines()}


def test_a_new_cart_is_empty(cart: Any) -> None:
    assert cart.lines() == []
    assert cart.subtotal() == 0
    assert cart.total() == 0
    assert cart.total("SAVE10") == 0


def test_lines_and_subtotal(filled_cart: Any) -> None:
    assert _contents(filled_cart) == {
        "apple": (Decimal("0.50"), 4),
        "bread": (Decimal("2.25"), 1),
    }
    assert filled_cart.subtotal() == Decimal("4.25")
    assert filled_cart.total() == Decimal("4.25")


def test_adding_a_sku_again_adds_to_its_quantity(filled_cart: Any) -> None:
    filled_cart.add("apple", Decimal("0.50"), 2)
    assert _contents(filled_cart)["apple"] == (Decimal("0.50"), 6)
    assert filled_cart.subtotal() == Decimal("5.25")


def test_the_smallest_valid_line(cart: Any) -> None:
    cart.add("sample", Decimal("0"), 1)
    assert _contents(cart) == {"sample": (Decimal("0"), 1)}


@pytest.mark.parametrize(
    ("price", "quantity"),
    [("1.00", 0), ("1.00", -1), ("-0.01", 1)],
    ids=["no-units", "negative-units", "negative-price"],
)
def test_a_bad_line_is_rejected(filled_cart: Any, price: str, quantity: int) -> None:
    before = _contents(filled_cart)
    with pytest.raises(ValueError):  # noqa: PT011 - the message is not part of the contract
        filled_cart.add("cheese", Decimal(price), quantity)
    assert _contents(filled_cart) == before


def test_one_sku_has_one_price(filled_cart: Any) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        filled_cart.add("apple", Decimal("0.60"))
    assert _contents(filled_cart)["apple"] == (Decimal("0.50"), 4)


def test_removing_some_units(filled_cart: Any) -> None:
    filled_cart.remove("apple", 3)
    assert _contents(filled_cart)["apple"] == (Decimal("0.50"), 1)
    assert filled_cart.subtotal() == Decimal("2.75")


def test_removing_the_last_unit_removes_the_line(filled_cart: Any) -> None:
    filled_cart.remove("bread")
    filled_cart.remove("apple", 4)
    assert filled_cart.lines() == []
    assert filled_cart.subtotal() == 0


@pytest.mark.parametrize(("sku", "quantity"), [("cheese", 1), ("apple", 5)])
def test_removing_what_is_not_there_is_a_key_error(
    filled_cart: Any, sku: str, quantity: int
) -> None:
    before = _contents(filled_cart)
    with pytest.raises(KeyError):
        filled_cart.remove(sku, quantity)
    assert _contents(filled_cart) == before


@pytest.mark.parametrize(
    ("subtotal", "code", "total"),
    [
        ("49.99", "SAVE10", "49.99"),
        ("50.00", "SAVE10", "45.00"),
        ("50.05", "SAVE10", "45.05"),
        ("50.15", "SAVE10", "45.14"),
        ("80.00", None, "80.00"),
    ],
    ids=["just-below", "exactly-at", "half-cent-up", "below-half", "no-code"],
)
def test_discount(
    cart_worth: Callable[[str], Any], subtotal: str, code: str | None, total: str
) -> None:
    assert cart_worth(subtotal).total(code) == Decimal(total)


def test_an_unknown_code_is_rejected(filled_cart: Any) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        filled_cart.total("SAVE100")
