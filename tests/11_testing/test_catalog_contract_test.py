"""11.7 A consumer-driven contract: the tests in exercises/11_testing/catalog_contract_test.py
must pass on every catalog that keeps the storefront working, and fail on each catalog change
that breaks it (see conftest.py)."""

from __future__ import annotations

import pytest

SUBJECT = "catalog_api"
pytestmark = pytest.mark.timeout(120)


def test_passes_on_a_correct_implementation(grader, wheat) -> None:
    grader.passes(wheat)


def test_catches(grader, chaff) -> None:
    grader.catches(chaff)
