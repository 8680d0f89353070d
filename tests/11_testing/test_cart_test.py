"""11.2 Test a shopping cart: the tests in exercises/11_testing/cart_test.py must pass on correct
carts and fail on each cart with a planted bug (see conftest.py)."""

from __future__ import annotations

import pytest

SUBJECT = "cart"
pytestmark = pytest.mark.timeout(120)


def test_passes_on_a_correct_implementation(grader, wheat) -> None:
    grader.passes(wheat)


def test_catches(grader, chaff) -> None:
    grader.catches(chaff)
