"""11.8 Contract tests of a gateway-shaped API: the tests in
exercises/11_testing/shop_contract_test.py must pass on every API that keeps its OpenAPI
contract, and fail on each planted contract break (see conftest.py)."""

from __future__ import annotations

import pytest

SUBJECT = "shop_api"
pytestmark = pytest.mark.timeout(120)


def test_passes_on_a_correct_implementation(grader, wheat) -> None:
    grader.passes(wheat)


def test_catches(grader, chaff) -> None:
    grader.catches(chaff)
