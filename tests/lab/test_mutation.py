"""Kept wrong solutions: the runner's verdicts, and `pytest --verify-mutants` end to end.

The end-to-end tests work on a private copy of the lab (journey.sandbox), so deleting a test
there never touches the real tree.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from journey.catalog import ROOT, Exercise, find_lesson
from journey.mutation import judge, mutants_of
from journey.sandbox import copy_lab
from journey.testrun import TestRunner


def by_module(lesson: str, module: str) -> Exercise:
    """An exercise found by its module: ids move when a lesson gains an exercise."""
    return next(e for e in find_lesson(lesson).exercises if e.module == module)


SETTINGS = by_module("01", "service_settings")  # no backing service, quick tests
PORT_TEST = "test_port_range_includes_both_ends"


def _mutant(name: str) -> Path:
    return next(m.path for m in mutants_of(SETTINGS) if m.name == name)


def _verify_mutants(lab: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    """`pytest --verify-mutants` in the copy, with only the plugins it needs (starts faster)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--verify-mutants",
            *paths,
            "-o",
            "addopts=",
            "-p",
            "journey.pytest_plugin",
            "-p",
            "pytest_timeout",
            "--import-mode=importlib",
            "-p",
            "no:cacheprovider",
        ],
        cwd=lab,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "COLUMNS": "200"},
    )


def test_deleting_the_test_that_catches_a_mutant_fails_verify_mutants(tmp_path: Path) -> None:
    lab = copy_lab(tmp_path / "lab")
    test_file = SETTINGS.test_file.relative_to(ROOT)

    before = _verify_mutants(lab, str(test_file))
    assert before.returncode == 0, before.stdout[-3000:] + before.stderr[-2000:]
    assert "caught" in before.stdout

    source = (lab / test_file).read_text(encoding="utf-8")
    deleted = re.sub(
        rf"@pytest.mark.parametrize\(\"port\".*?\ndef {PORT_TEST}\(.*?\n\n\n",
        "",
        source,
        flags=re.S,
    )
    assert PORT_TEST not in deleted, "the catching test is gone from the copy"
    (lab / test_file).write_text(deleted, encoding="utf-8")

    after = _verify_mutants(lab, str(test_file))
    assert after.returncode == 1, after.stdout[-3000:]
    for name in ("rejects_port_1", "rejects_port_65535"):
        mutant = next(m for m in mutants_of(SETTINGS) if m.name == name)
        assert f"{mutant.shown} survived: no test caught it" in after.stdout, after.stdout[-3000:]
        assert mutant.description in after.stdout, "the bug's docstring line is shown"


def test_a_caught_mutant_names_the_test_that_caught_it() -> None:
    verdict = judge(
        [SETTINGS.test_file], SETTINGS.lesson_folder, SETTINGS.module, _mutant("rejects_port_1")
    )
    assert verdict.caught, verdict
    assert verdict.test.startswith(f"tests/{SETTINGS.lesson_folder}/test_service_settings.py::")
    assert verdict.description.startswith("Rejects port 1")


def test_a_correct_implementation_survives(tmp_path: Path) -> None:
    """Turned round, as lesson 11 will use it: a correct implementation (a "wheat") passes."""
    wheat = tmp_path / "another_correct_one.py"
    wheat.write_text(SETTINGS.source("solutions").read_text(encoding="utf-8"), encoding="utf-8")
    verdict = judge(
        [SETTINGS.test_file],
        SETTINGS.lesson_folder,
        SETTINGS.module,
        wheat,
        stop_at_first_failure=False,
    )
    assert verdict.survived, verdict
    assert verdict.tests_run > 10, "every test ran"


def test_a_mutant_that_does_not_import_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text('"""Forgets a colon."""\n\ndef from_env()\n    pass\n', encoding="utf-8")
    verdict = judge([SETTINGS.test_file], SETTINGS.lesson_folder, SETTINGS.module, broken)
    assert verdict.outcome == "error", verdict
    assert "line 3" in verdict.message, verdict.message
    assert "SyntaxError" in verdict.message


def test_a_hanging_mutant_is_caught_by_the_time_limit(tmp_path: Path) -> None:
    solution = SETTINGS.source("solutions").read_text(encoding="utf-8")
    hanging = tmp_path / "hangs.py"
    endless = "        while True:  # a learner's endless loop\n            pass\n"
    assert solution.count("        port = default_port\n") == 1
    hanging.write_text(
        solution.replace(
            "        port = default_port\n", endless + "        port = default_port\n"
        ),
        encoding="utf-8",
    )
    verdict = judge(
        [SETTINGS.test_file],
        SETTINGS.lesson_folder,
        SETTINGS.module,
        hanging,
        env={"JOURNEY_TEST_TIMEOUT": "1"},
    )
    assert verdict.caught, verdict
    assert verdict.message.startswith("timed out after 1 s in test_"), verdict.message


def test_a_package_mutant_is_laid_over_the_solution_package(tmp_path: Path) -> None:
    """The rule for package exercises: the folder holds only the files that differ."""
    from journey.mutation import _materialised

    package = by_module("04", "name_backfill")
    mutant = tmp_path / "bug"
    changed = mutant / "migrations" / "versions" / "v0002_split_customer_names.py"
    changed.parent.mkdir(parents=True)
    changed.write_text('"""A bug."""\n', encoding="utf-8")
    with _materialised(package.lesson_folder, package.module, mutant, "solutions") as merged:
        assert (merged / "__init__.py").is_file(), "the rest of the package comes along"
        assert (merged / "migrations" / "env.py").is_file()
        assert (merged / changed.relative_to(mutant)).read_text(
            encoding="utf-8"
        ) == '"""A bug."""\n'
    assert not merged.exists(), "the temporary copy is removed"
    assert package.source("solutions").joinpath("__init__.py").is_file(), "the solution is intact"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the forked runner only exists on POSIX")
def test_the_new_interpreter_fallback_gives_the_same_verdict() -> None:
    forked = judge(
        [SETTINGS.test_file],
        SETTINGS.lesson_folder,
        SETTINGS.module,
        _mutant("rejects_port_65535"),
        runner=TestRunner(fork=True),
    )
    spawned = judge(
        [SETTINGS.test_file],
        SETTINGS.lesson_folder,
        SETTINGS.module,
        _mutant("rejects_port_65535"),
        runner=TestRunner(fork=False),
    )
    assert forked.caught
    assert spawned.caught
    assert forked.test == spawned.test


def test_a_busy_event_loop_is_interrupted_by_the_time_limit(tmp_path: Path) -> None:
    """A coroutine that never awaits blocks its event loop; the limit still ends the test."""
    bucket = by_module("05", "token_bucket")
    solution = bucket.source("solutions").read_text(encoding="utf-8")
    busy = tmp_path / "busy.py"
    assert solution.count("        self._check(tokens)\n        async with self._lock:\n") == 1
    busy.write_text(
        solution.replace(
            "        self._check(tokens)\n        async with self._lock:\n",
            "        self._check(tokens)\n        while True:  # never awaits\n            pass\n"
            "        async with self._lock:\n",
        ),
        encoding="utf-8",
    )
    verdict = judge(
        [bucket.test_file],
        bucket.lesson_folder,
        bucket.module,
        busy,
        env={"JOURNEY_TEST_TIMEOUT": "1"},
    )
    assert verdict.caught, verdict
    assert verdict.message.startswith("timed out after 1 s in test_"), verdict.message
