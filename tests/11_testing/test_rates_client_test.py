"""11.5 Test an HTTP API client: the tests in exercises/11_testing/rates_client_test.py must pass
on correct clients and fail on each client with a planted bug (see conftest.py)."""

from __future__ import annotations

import pytest

SUBJECT = "rates_client"
pytestmark = pytest.mark.timeout(120)


def test_passes_on_a_correct_implementation(grader, wheat) -> None:
    grader.passes(wheat)


def test_catches(grader, chaff) -> None:
    grader.catches(chaff)
