"""11.3 Test a key-value store on disk: the tests in exercises/11_testing/kvstore_test.py must pass
on correct stores and fail on each store with a planted bug (see conftest.py)."""

from __future__ import annotations

import pytest

SUBJECT = "kvstore"
pytestmark = pytest.mark.timeout(120)


def test_passes_on_a_correct_implementation(grader, wheat) -> None:
    grader.passes(wheat)


def test_catches(grader, chaff) -> None:
    grader.catches(chaff)
