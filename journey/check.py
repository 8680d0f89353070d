"""Runs a lesson's exercise tests in this process and sums them up per exercise.

In-process pytest keeps a check at about a second: no second interpreter, and the plugins
that only the full suite needs (notebooks, hypothesis's reporting...) are not loaded.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import pytest

from journey.catalog import ROOT, Exercise, Lesson, exercise_for_test_file
from journey.targets import TARGET_ENV
from journey.testrun import short_message

# Plugins installed in the environment that a lesson check does not need; loading them
# would more than double the start-up time.
UNNEEDED_PLUGINS = (
    "nbmake",
    "hypothesispytest",
    "respx",
    "anyio",
    "platformdirs",
    "schemathesis",
    "pytest_cov",
)


class Outcome(Enum):
    DONE = "done"
    IN_PROGRESS = "in progress"
    NOT_STARTED = "not started"
    BROKEN = "cannot be imported"
    SKIPPED = "skipped"
    NO_TESTS = "no tests"


@dataclass
class TestResult:
    name: str
    outcome: str  # "passed" | "failed" | "skipped"
    message: str = ""
    not_implemented: bool = False


@dataclass
class ExerciseReport:
    exercise: Exercise
    results: list[TestResult] = field(default_factory=list)
    collection_error: str = ""

    @property
    def passed(self) -> int:
        return sum(r.outcome == "passed" for r in self.results)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def outcome(self) -> Outcome:
        if self.collection_error:
            return Outcome.BROKEN
        if not self.results:
            return Outcome.NO_TESTS
        if any(r.outcome == "skipped" for r in self.results):
            return Outcome.SKIPPED
        if self.passed == self.total:
            return Outcome.DONE
        failures = [r for r in self.results if r.outcome == "failed"]
        if self.passed == 0 and all(r.not_implemented for r in failures):
            return Outcome.NOT_STARTED
        return Outcome.IN_PROGRESS

    @property
    def done(self) -> bool:
        return self.outcome is Outcome.DONE

    @property
    def skipped(self) -> bool:
        return self.outcome is Outcome.SKIPPED

    @property
    def first_problem(self) -> str:
        if self.collection_error:
            return self.collection_error
        for result in self.results:
            if result.outcome != "passed":
                return f"{result.name}: {result.message}" if result.message else result.name
        return ""


class _Collector:
    """A pytest plugin object that files each test's result under its exercise."""

    def __init__(self, reports: dict[str, ExerciseReport]) -> None:
        self.reports = reports

    def _report_for(self, path: str) -> ExerciseReport | None:
        exercise = exercise_for_test_file(ROOT / path.split("::")[0])
        return self.reports.get(exercise.id) if exercise else None

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and (target := self._report_for(report.nodeid)):
            target.collection_error = short_message(report)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        target = self._report_for(report.nodeid)
        if target is None:
            return
        name = report.nodeid.split("::", 1)[-1]
        if report.when == "call" or (report.when == "setup" and not report.passed):
            text = report.longreprtext if report.failed else ""
            target.results.append(
                TestResult(
                    name=name,
                    outcome=report.outcome,
                    message="" if report.passed else short_message(report),
                    not_implemented="NotImplementedError" in text,
                )
            )


def run_lesson(lesson: Lesson, only: Exercise | None = None) -> list[ExerciseReport]:
    """Runs the exercise tests of a lesson (or one exercise) against ``exercises/``."""
    exercises = [e for e in lesson.exercises if only is None or e.id == only.id]
    reports = {e.id: ExerciseReport(e) for e in exercises}
    files = [str(e.test_file.relative_to(ROOT)) for e in exercises if e.test_file.exists()]
    if files:
        os.environ[TARGET_ENV] = "exercises"
        args = [
            *files,
            "--rootdir",
            str(ROOT),
            "-o",
            "addopts=",
            "-p",
            "journey.pytest_plugin",
            "--import-mode=importlib",
            "-p",
            "no:cacheprovider",
            "-q",
            "--no-header",
            "--tb=line",  # the learner sees one line per problem; full tracebacks cost a second
            "--capture=fd",
            # one broken exercise must not stop the others from being checked
            "--continue-on-collection-errors",
        ]
        for plugin in UNNEEDED_PLUGINS:
            args += ["-p", f"no:{plugin}"]
        cwd = Path.cwd()
        os.chdir(ROOT)
        try:
            # pytest's own report goes to /dev/null: the CLI prints a summary made for a learner.
            with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
                pytest.main(args, plugins=[_Collector(reports)])
        finally:
            os.chdir(cwd)
    return [reports[e.id] for e in exercises]
