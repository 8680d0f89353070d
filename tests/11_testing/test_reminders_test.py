"""11.4 Test payment reminders: the tests in exercises/11_testing/reminders_test.py must pass on
correct reminders and fail on each version with a planted bug (see conftest.py)."""

from __future__ import annotations

import pytest

SUBJECT = "reminders"
pytestmark = pytest.mark.timeout(120)


def test_passes_on_a_correct_implementation(grader, wheat) -> None:
    grader.passes(wheat)


def test_catches(grader, chaff) -> None:
    grader.catches(chaff)
