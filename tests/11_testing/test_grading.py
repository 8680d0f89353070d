"""How lesson 11 grades a test file (see conftest.py): the code under test is the same in both
trees, every wheat and chaff says what it is, and a test file that asserts nothing is reported
as catching none of the bugs, by the lab's tests and by ``journey check``."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from journey.catalog import EXERCISES_DIR, MUTANTS_DIR, SOLUTIONS_DIR, find_exercise
from journey.sandbox import copy_lab

LESSON = "11_testing"
SUBJECTS = ("slug", "cart", "kvstore", "reminders", "rates_client", "fieldcodec", "catalog_api")
GIVEN = (*SUBJECTS, "shop_api", "storefront")  # the modules a learner reads, and does not edit
# a test file that asserts nothing (its calls crash on none of the planted bugs, either)
SILENT = MUTANTS_DIR / LESSON / "fieldcodec_test" / "asserts_nothing.py"
pytestmark = pytest.mark.timeout(240)


@pytest.mark.parametrize("module", GIVEN)
def test_the_code_under_test_is_the_same_in_both_trees(module: str) -> None:
    shipped = EXERCISES_DIR / LESSON / f"{module}.py"
    reference = SOLUTIONS_DIR / LESSON / f"{module}.py"
    assert filecmp.cmp(shipped, reference, shallow=False), (
        f"{shipped.name} is the code under test: exercises/ and solutions/ ship the same file"
    )


@pytest.mark.parametrize("subject", [*SUBJECTS, "shop_api"])
def test_every_wheat_and_chaff_says_what_it_is(subject: str, request: pytest.FixtureRequest):
    conftest = request.getfixturevalue("grader_parts")
    wheats = conftest.implementations(subject, "wheat")
    chaffs = conftest.implementations(subject, "chaff")
    assert len(wheats) >= 2, f"{subject}: a second correct implementation finds over-specifying"
    assert 3 <= len(chaffs) <= 6, f"{subject}: three to six planted bugs"
    for implementation in wheats[1:] + chaffs:
        line = implementation.description
        said = f"{implementation.path}: the first line of its docstring says what it is"
        assert line, said
        assert line != implementation.name.replace("_", " "), said


def test_a_file_that_asserts_nothing_catches_no_bug(request: pytest.FixtureRequest) -> None:
    conftest = request.getfixturevalue("grader_parts")
    grader = conftest.Grader(
        find_exercise("11.6"),
        "fieldcodec",
        request.getfixturevalue("test_runner"),
        request.getfixturevalue("hypothesis_home"),
        test_file=SILENT,
    )
    for wheat in conftest.implementations("fieldcodec", "wheat"):
        grader.passes(wheat)  # it passes everywhere: that alone proves nothing
    chaffs = conftest.implementations("fieldcodec", "chaff")
    for chaff in chaffs:
        with pytest.raises(pytest.fail.Exception) as failure:
            grader.catches(chaff)
        message = str(failure.value)
        assert f"catches 0 of {len(chaffs)} bugs" in message
        assert chaff.description in message, "the bug is named by its misconception"
        assert "subjects" not in message, "never its code, nor its path"
        assert chaff.path.name not in message, "never its code, nor its path"


def test_journey_check_reports_it_as_not_done(tmp_path: Path) -> None:
    lab = copy_lab(tmp_path / "lab")
    shutil.copy2(SILENT, lab / "exercises" / LESSON / "fieldcodec_test.py")
    result = subprocess.run(
        [sys.executable, "-m", "journey", "check", "11"],
        cwd=lab,
        capture_output=True,
        text=True,
        timeout=200,
        env={**os.environ, "COLUMNS": "400"},
    )
    output = " ".join(result.stdout.split())
    assert result.returncode != 0, "the lesson is not done"
    assert "11.6 Test a codec with properties (Hypothesis) in progress, 2/6 tests" in output, output
    assert "catches 0 of 4 bugs" in output, output


def test_only_hypothesis_caches_of_code_are_kept_between_checks(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The Unicode tables and the constants read from the code under test (named by a hash of
    its source) go to the kept folder and come back; the example database never does."""
    conftest = request.getfixturevalue("grader_parts")
    session, kept, next_session = tmp_path / "session", tmp_path / "kept", tmp_path / "next"
    for relative, text in {
        "unicode_data/6.0/charmap.json.gz": "tables",
        "constants/09e5780acde9923d": "constants",
        "examples/abc/def": "a failing example",
    }.items():
        (session / relative).parent.mkdir(parents=True, exist_ok=True)
        (session / relative).write_text(text, encoding="utf-8")
    conftest.copy_caches(session, kept)
    (kept / "constants" / "09e5780acde9923d").write_text("kept", encoding="utf-8")
    conftest.copy_caches(session, kept)  # a file the kept folder has is not written again
    conftest.copy_caches(kept, next_session)

    found = {
        str(p.relative_to(next_session)): p.read_text(encoding="utf-8")
        for p in next_session.rglob("*")
        if p.is_file()
    }
    assert found == {
        "unicode_data/6.0/charmap.json.gz": "tables",
        "constants/09e5780acde9923d": "kept",
    }
