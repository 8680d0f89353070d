"""11.2 Test a shopping cart (warm-up): fixtures (plain, built on other fixtures, and a
factory), parametrize with ids, and tests that do not depend on an order the code leaves open.

The code under test is ``cart.py`` beside this file; its ``Cart`` docstring is the contract.
Write the fixtures first, then the tests, asking for the fixtures they need as parameters
(``def test_removing_some_units(filled_cart): ...``). Run them with
``uv run pytest exercises/11_testing/cart_test.py``, then ``uv run journey check 11``.

``lines()`` gives the lines "in no particular order", and a correct cart may give them in
another order than the one you read: compare what the cart holds, not the order of the list.
Amounts compare as numbers; error messages are not part of the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from journey.targets import load

carts = load(__file__, "cart")  # a module: annotations below say Any for its Cart


@pytest.fixture
def cart() -> Any:
    """An empty cart: every test that asks for one gets its own."""
    raise NotImplementedError("11.2: return a new, empty Cart")


@pytest.fixture
def filled_cart(cart: Any) -> Any:
    """A cart built on the ``cart`` fixture, with a few lines in it (choose them so the
    subtotal is easy to check by hand)."""
    raise NotImplementedError("11.2: add a few lines to `cart` and return it")


@pytest.fixture
def cart_worth() -> Callable[[str], Any]:
    """A factory fixture: ``cart_worth("50.00")`` makes a new cart with that subtotal, for
    the discount tests."""
    raise NotImplementedError("11.2: return a function that makes a cart worth an amount")


def test_a_new_cart_is_empty() -> None:
    """No lines, a subtotal and a total of 0, with or without the code."""
    raise NotImplementedError("11.2: check an empty cart")


def test_lines_and_subtotal() -> None:
    """The lines of ``filled_cart`` (SKU, unit price, quantity: in any order) and its
    subtotal."""
    raise NotImplementedError("11.2: check the lines and the subtotal of a filled cart")


def test_adding_a_sku_again_adds_to_its_quantity() -> None:
    """Adding more of a SKU that is in the cart adds to its quantity."""
    raise NotImplementedError("11.2: add a SKU twice and check its quantity")


def test_the_smallest_valid_line() -> None:
    """Quantity 1 at a price of 0 is accepted."""
    raise NotImplementedError("11.2: add the smallest valid line")


def test_a_bad_line_is_rejected() -> None:
    """Parametrize with ids: no units, negative units, a negative price; each is a
    ``ValueError`` and leaves the cart as it was."""
    raise NotImplementedError("11.2: parametrize over bad lines")


def test_one_sku_has_one_price() -> None:
    """Adding a SKU again at another price is a ``ValueError``."""
    raise NotImplementedError("11.2: add a SKU at two prices")


def test_removing_some_units() -> None:
    """Removing fewer units than a line has lowers its quantity."""
    raise NotImplementedError("11.2: remove some units and check")


def test_removing_the_last_unit_removes_the_line() -> None:
    """A line with no units left is gone from ``lines()``."""
    raise NotImplementedError("11.2: remove every unit of a line")


def test_removing_what_is_not_there_is_a_key_error() -> None:
    """An unknown SKU, or more units than the line has: ``KeyError``, cart unchanged."""
    raise NotImplementedError("11.2: parametrize over the two cases")


def test_discount() -> None:
    """Parametrize ``(subtotal, code, total)`` with ``cart_worth``: just below 50.00, exactly
    50.00, a total that ends in half a cent, and no code at all."""
    raise NotImplementedError("11.2: parametrize the discount cases around 50.00")


def test_an_unknown_code_is_rejected() -> None:
    """A code other than ``"SAVE10"`` is a ``ValueError``."""
    raise NotImplementedError("11.2: ask for a total with an unknown code")
