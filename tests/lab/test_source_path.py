"""journey.targets.source_path: the file ``load`` would import, without importing it.

Lesson 11's exercises are test files: the lab's tests hand the learner's file to a test runner
(journey.mutation.judge) instead of importing it, and under --verify-mutants a kept wrong test
file stands in for it as a substitute.
"""

from __future__ import annotations

import sys
from pathlib import Path

from journey import targets
from journey.catalog import EXERCISES_DIR, SOLUTIONS_DIR


def test_it_names_the_file_in_the_target_tree() -> None:
    for target, tree in (("exercises", EXERCISES_DIR), ("solutions", SOLUTIONS_DIR)):
        path = targets.source_path("01_fundamentals", "money", target)
        assert path == tree / "01_fundamentals" / "money.py"
    package = targets.source_path("04_databases", "name_backfill", "solutions")
    assert package == SOLUTIONS_DIR / "04_databases" / "name_backfill", "a package is its folder"


def test_a_substitute_stands_in_without_being_imported(tmp_path: Path) -> None:
    stand_in = tmp_path / "probe_tests.py"
    stand_in.write_text("raise RuntimeError('never imported')\n")
    module = "source_path_probe"  # no lesson has it: never imported by another test
    try:
        name = targets.substitute("01_fundamentals", module, stand_in, "solutions")
        assert targets.source_path("01_fundamentals", module, "solutions") == stand_in
        in_exercises = targets.source_path("01_fundamentals", module, "exercises")
        assert in_exercises == EXERCISES_DIR / "01_fundamentals" / f"{module}.py"
        assert name not in sys.modules
    finally:
        targets.clear_substitutes()
