"""Checks a learner's exercises: runs their tests (journey.testrun) and sums them up per exercise.

The tests run in a child process, so an exercise that hangs or leaves a thread or a server
running cannot keep the check from ending: each test has its time limit, and the child's
process group is killed when the check is done. A check stays at about a second for a lesson
without services: the child loads only the pytest plugin it needs, and in watch mode it is
forked from a warm parent that already holds the libraries the tests import.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from journey import state, stubs
from journey.catalog import ROOT, Exercise
from journey.limits import timeout_for
from journey.testrun import RunResult, RunSpec, TestResult, TestRunner

Listener = Callable[[dict[str, Any]], None]

WORKERS_ENV = "JOURNEY_CHECK_WORKERS"
MAX_WORKERS = 4  # beyond that, the backing services and the disk are what a check waits on
PARALLEL_FROM_SECONDS = 3.0  # a check expected to be shorter runs in one child
UNKNOWN_SECONDS = 1.0  # what a test file that never ran is expected to take


class Outcome(Enum):
    DONE = "done"
    IN_PROGRESS = "in progress"
    NOT_STARTED = "not started"
    BROKEN = "cannot be imported"
    SKIPPED = "skipped"
    NO_TESTS = "no tests"


@dataclass
class ExerciseReport:
    exercise: Exercise
    results: list[TestResult] = field(default_factory=list)
    collection_error: str = ""
    untouched: bool | None = None  # the file is the stub as shipped (None: unknown)

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
        if self.untouched:
            return Outcome.NOT_STARTED
        failures = [r for r in self.results if r.outcome == "failed"]
        if self.untouched is None and self.passed == 0 and all(r.not_implemented for r in failures):
            return Outcome.NOT_STARTED  # no record of the shipped stub: judge by the errors
        return Outcome.IN_PROGRESS

    @property
    def done(self) -> bool:
        return self.outcome is Outcome.DONE

    @property
    def skipped(self) -> bool:
        return self.outcome is Outcome.SKIPPED

    @property
    def setup_problem(self) -> str:
        """Why a test could not even start (a backing service down...): not the learner's code."""
        for result in self.results:
            if result.outcome == "failed" and result.phase == "setup" and not result.not_run:
                return f"{result.name}: {result.message}"
        return ""

    @property
    def first_problem(self) -> str:
        if self.collection_error:
            return self.collection_error
        for result in self.results:
            if result.outcome == "passed":
                continue
            message = result.message
            if result.timed_out:
                not_run = sum(r.not_run for r in self.results)
                return message + (f"; its other {not_run} tests were not run" if not_run else "")
            return f"{result.name}: {message}" if message else result.name
        return ""


def spec_for(
    exercises: Sequence[Exercise], *, verbose: bool = False, env: dict[str, str] | None = None
) -> RunSpec:
    """The run that checks these exercises against ``exercises/``."""
    files = tuple(str(e.test_file.relative_to(ROOT)) for e in exercises if e.test_file.exists())
    limit = max((timeout_for(e) for e in exercises), default=10.0)
    return RunSpec(
        files=files,
        target="exercises",
        verbose=verbose,
        env=dict(env or {}),
        import_timeout=limit,
    )


def run_exercises(
    exercises: Sequence[Exercise],
    *,
    runner: TestRunner | None = None,
    verbose: bool = False,
    listener: Listener | None = None,
    env: dict[str, str] | None = None,
) -> list[ExerciseReport]:
    """Runs the exercises' tests against ``exercises/`` and sums them up per exercise.

    A lesson whose tests take a while runs in a few children at once, its test files shared
    out by how long each took last time (see :func:`share_out`). If a test had to be killed
    (it hung where it could not be interrupted), the files of its child that had not run yet
    are run again in a new child, so one hang costs one exercise only.
    """
    runner = runner or TestRunner(keep_warm=False)
    reports = {e.id: ExerciseReport(e, untouched=stubs.is_untouched(e)) for e in exercises}
    by_file = {str(e.test_file.relative_to(ROOT).as_posix()): reports[e.id] for e in exercises}
    spec = spec_for(exercises, verbose=verbose, env=env)
    timings = state.load_test_timings()
    groups = share_out(list(spec.files), timings, workers())
    seconds_by_file: dict[str, float] = {}
    while groups:
        specs = [_with_files(spec, group) for group in groups]
        results = runner.run_many(specs, listener, workers=len(specs))
        again = []
        for group, result in zip(groups, results, strict=True):
            _file_results(result, by_file)
            seconds_by_file.update(result.file_seconds)
            pending = [f for f in group if not _reached(by_file[Path(f).as_posix()])]
            hung = result.killed_in.split("::", 1)[0]
            pending = [f for f in pending if Path(f).as_posix() != hung]
            if result.killed_in:
                again += [pending] if pending else []
            elif result.crashed:
                for file in pending:
                    by_file[Path(file).as_posix()].collection_error = result.crashed
        groups = again
    with contextlib.suppress(OSError):  # a read-only lab checks as well, only less evenly
        state.record_test_timings(seconds_by_file)
    return [reports[e.id] for e in exercises]


def workers() -> int:
    """How many children a check may run at once: one per CPU, at most MAX_WORKERS
    (``JOURNEY_CHECK_WORKERS`` says otherwise; 1 runs every file in one child)."""
    wanted = os.environ.get(WORKERS_ENV, "").strip()
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def share_out(files: list[str], timings: dict[str, float], workers: int) -> list[list[str]]:
    """The test files in groups, one child each, of about the same expected length.

    Each file is expected to take what it took last time (UNKNOWN_SECONDS if it never ran).
    A check expected to be short runs in one child: a second one costs its start-up (pytest
    and the lesson's libraries, imported again) for little gain. Otherwise the longest files
    go first, each to the group expected to end soonest; a group keeps the files in the
    lesson's order.
    """
    expected = {f: timings.get(Path(f).as_posix(), UNKNOWN_SECONDS) for f in files}
    if workers <= 1 or len(files) <= 1 or sum(expected.values()) < PARALLEL_FROM_SECONDS:
        return [files] if files else []
    loads = [0.0] * min(workers, len(files))
    placed: dict[str, int] = {}
    for file in sorted(files, key=lambda f: -expected[f]):
        group = loads.index(min(loads))
        placed[file] = group
        loads[group] += expected[file]
    groups = [[f for f in files if placed[f] == g] for g in range(len(loads))]
    return [group for group in groups if group]


def _with_files(spec: RunSpec, files: list[str]) -> RunSpec:
    return replace(spec, files=tuple(files))


def _reached(report: ExerciseReport) -> bool:
    return bool(report.results or report.collection_error)


def _file_results(result: RunResult, by_file: dict[str, ExerciseReport]) -> None:
    for error in result.collection_errors:
        if (report := by_file.get(error.file)) is not None:
            report.collection_error = error.message
    for test in result.tests:
        if (report := by_file.get(test.file)) is not None:
            report.results.append(test)
