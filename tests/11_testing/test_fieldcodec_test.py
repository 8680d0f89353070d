"""11.6 Test a codec with properties: the tests in exercises/11_testing/fieldcodec_test.py must
pass on correct codecs and fail on each codec with a planted bug (see conftest.py)."""

from __future__ import annotations

import pytest

SUBJECT = "fieldcodec"
pytestmark = pytest.mark.timeout(120)


def test_passes_on_a_correct_implementation(grader, wheat) -> None:
    grader.passes(wheat)


def test_catches(grader, chaff) -> None:
    grader.catches(chaff)
