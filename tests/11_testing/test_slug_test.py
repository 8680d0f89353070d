"""11.1 Test slugify: the tests in exercises/11_testing/slug_test.py must pass on correct slugify
functions and fail on each slugify with a planted bug (see conftest.py)."""

from __future__ import annotations

import pytest

SUBJECT = "slug"
pytestmark = pytest.mark.timeout(120)


def test_passes_on_a_correct_implementation(grader, wheat) -> None:
    grader.passes(wheat)


def test_catches(grader, chaff) -> None:
    grader.catches(chaff)
