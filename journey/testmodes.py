"""The lab's test modes, as a pytest plugin (registered by ``journey.pytest_plugin``).

``--solutions``
    run every test against ``solutions/`` (the target is set with ``journey.targets``).
``--verify-stubs``
    run only the exercise tests, against the untouched stubs in ``exercises/``; a test that
    *passes* there is reported as a failure, because it cannot tell a finished exercise from
    an unfinished one.
``--verify-mutants``
    one test item per kept wrong solution (``mutants/NN_topic/<module>/<bug>.py``) of the
    selected exercises: it runs the exercise's tests against the mutant (see
    ``journey.mutation``) and fails, naming the mutant and its bug, when no test caught it.
    The tests are first run against the reference solution itself, in the same way: a mutant
    is only blamed when they pass there. Backing services are required, as in CI.

In every mode each exercise test is tagged with its exercise (``exercise(id)`` marker and the
markers of the services it needs) and gets a time limit (a ``timeout`` marker for
pytest-timeout, unless it has one): see ``journey.limits``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from journey import services, targets
from journey.catalog import (
    LESSON_FOLDER,
    MUTANTS_DIR,
    NOTEBOOKS_DIR,
    TESTS_DIR,
    CatalogError,
    Exercise,
    exercise_for_test_file,
)
from journey.limits import timeout_for
from journey.mutation import Mutant, TestRunner, Verdict, judge, mutants_of, stray_mutant_paths

VERIFY_STUBS = "journey_verify_stubs"
VERIFY_MUTANTS = "journey_verify_mutants"
EXERCISE_KEY = pytest.StashKey[Exercise]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("journey", "Python Learning Journey")
    group.addoption(
        "--solutions",
        action="store_true",
        help="run the tests against solutions/ instead of exercises/",
    )
    group.addoption(
        "--verify-stubs",
        action="store_true",
        dest=VERIFY_STUBS,
        help="run exercise tests against the untouched stubs; any test that passes is an error",
    )
    group.addoption(
        "--verify-mutants",
        action="store_true",
        dest=VERIFY_MUTANTS,
        help="run each exercise's tests against its kept wrong solutions in mutants/; "
        "a mutant that no test catches is an error",
    )


def pytest_configure(config: pytest.Config) -> None:
    chosen = [
        flag
        for flag, dest in (
            ("--solutions", "solutions"),
            ("--verify-stubs", VERIFY_STUBS),
            ("--verify-mutants", VERIFY_MUTANTS),
        )
        if config.getoption(dest)
    ]
    if len(chosen) > 1:
        raise pytest.UsageError(f"{' and '.join(chosen)} exclude each other: pick one.")
    if config.getoption("solutions") or _verifying_mutants(config):
        targets.set_target("solutions")
    elif _verifying_stubs(config):
        targets.set_target("exercises")
    if _verifying_mutants(config):
        config.stash[_SESSION_KEY] = _MutationSession()
    config.addinivalue_line("markers", "exercise(id): the lesson exercise this test checks")


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION_KEY, None)
    if session is not None:
        session.close()


def pytest_report_header(config: pytest.Config) -> str:
    target = targets.current_target()
    if _verifying_stubs(config):
        return f"journey: testing {target}/ (verifying that every exercise test fails on the stubs)"
    if _verifying_mutants(config):
        return "journey: running each exercise's tests against its kept wrong solutions (mutants/)"
    return f"journey: testing {target}/"


def _verifying_stubs(config: pytest.Config) -> bool:
    return bool(config.getoption(VERIFY_STUBS))


def _verifying_mutants(config: pytest.Config) -> bool:
    return bool(config.getoption(VERIFY_MUTANTS))


def exercise_of(item: pytest.Item) -> Exercise | None:
    """The exercise a collected test checks, or None for examples, notebooks and the like."""
    return item.stash.get(EXERCISE_KEY, None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tags each exercise test with its exercise id, the services that exercise needs and a
    time limit."""
    for item in items:
        if isinstance(item, MutantItem):
            continue
        try:
            exercise = exercise_for_test_file(Path(str(item.path)))
        except CatalogError as error:
            raise pytest.UsageError(str(error)) from error
        if exercise is None:
            continue
        item.stash[EXERCISE_KEY] = exercise
        item.add_marker(pytest.mark.exercise(exercise.id))
        for name in exercise.services:
            item.add_marker(getattr(pytest.mark, name))
        if item.get_closest_marker("timeout") is None:
            try:
                limit = timeout_for(exercise)
            except ValueError as error:
                raise pytest.UsageError(str(error)) from None
            item.add_marker(pytest.mark.timeout(limit))
    if _verifying_stubs(config):
        kept = [item for item in items if EXERCISE_KEY in item.stash]
        if items and not kept:
            raise pytest.UsageError(
                "--verify-stubs found no exercise tests here: exercise tests live in "
                "tests/NN_topic/test_<module>.py for a module listed in lesson.toml."
            )
        dropped = [item for item in items if EXERCISE_KEY not in item.stash]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if not _verifying_stubs(item.config) or call.when != "call" or exercise_of(item) is None:
        return report
    exercise = exercise_of(item)
    assert exercise is not None
    if report.passed:
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} passes against the untouched stub of exercise {exercise.id}: "
            "it cannot tell a finished exercise from an unfinished one. Strengthen it."
        )
    elif report.failed:
        report.outcome = "passed"
        report.longrepr = None
    return report


# -- --verify-mutants ---------------------------------------------------------------------------


class _MutationSession:
    """State shared by the mutant items of one pytest run: the warm runner, the control verdicts,
    one PostgreSQL test database for every child run that needs one."""

    def __init__(self) -> None:
        self.runner = TestRunner()
        self.controls: dict[str, Verdict] = {}
        self.verdicts: list[tuple[Mutant, Verdict]] = []
        self.database: tuple[str, str] | None = None  # (admin URL, test database URL)
        self.exercises_seen: list[Exercise] = []

    def env(self, exercise: Exercise) -> dict[str, str]:
        from journey.pg import SESSION_DATABASE_ENV

        env = {services.REQUIRE_ENV: "1"}
        if "postgres" in exercise.services and (url := self._database()):
            env[SESSION_DATABASE_ENV] = url
        return env

    def _database(self) -> str | None:
        """One database for the whole run (each test still gets its own schema); None when
        PostgreSQL does not answer: the child runs then fail on it, as required."""
        if self.database is None:
            if services.probe("postgres") is not None:
                return None
            from journey import pg

            admin = services.SERVICES["postgres"].url
            pg.drop_orphaned_test_databases(admin)
            self.database = (admin, pg.create_test_database(admin))
        return self.database[1]

    def control(self, exercise: Exercise) -> Verdict:
        if exercise.id not in self.controls:
            self.controls[exercise.id] = judge(
                [exercise.test_file],
                exercise.lesson_folder,
                exercise.module,
                None,
                runner=self.runner,
                env=self.env(exercise),
            )
        return self.controls[exercise.id]

    def judge(self, mutant: Mutant, cache: pytest.Cache | None) -> Verdict:
        """Judges a mutant, running first the test that caught it last time (pytest's cache)."""
        exercise = mutant.exercise
        key = f"journey/caught-by/{mutant.shown}"
        hint = cache.get(key, None) if cache is not None else None
        verdict = judge(
            [exercise.test_file],
            exercise.lesson_folder,
            exercise.module,
            mutant.path,
            runner=self.runner,
            env=self.env(exercise),
            first=[hint] if isinstance(hint, str) else [],
        )
        if cache is not None and verdict.caught:
            cache.set(key, verdict.test)
        self.verdicts.append((mutant, verdict))
        return verdict

    def close(self) -> None:
        if self.database is not None:
            from journey import pg

            admin, url = self.database
            self.database = None
            pg.drop_database(admin, url)


_SESSION_KEY = pytest.StashKey[_MutationSession]()


class MutantProblem(Exception):
    """A mutant survived, or could not be judged; the message says which and why."""


class ExerciseMutants(pytest.File):
    """Stands in for an exercise's test module under --verify-mutants: one item per mutant.

    The test module itself is never imported in this process, so every child run imports the
    lesson's modules afresh."""

    def collect(self) -> Iterator[pytest.Item]:
        exercise = exercise_for_test_file(self.path)
        assert exercise is not None
        self.config.stash[_SESSION_KEY].exercises_seen.append(exercise)
        for mutant in mutants_of(exercise):
            yield MutantItem.from_parent(self, name=mutant.name, mutant=mutant)


class MutantItem(pytest.Item):
    def __init__(self, *, mutant: Mutant, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mutant = mutant

    def runtest(self) -> None:
        session = self.config.stash[_SESSION_KEY]
        mutant = self.mutant
        exercise = mutant.exercise
        test_file = exercise.test_file.relative_to(TESTS_DIR.parent)
        if not mutant.description:
            raise MutantProblem(
                f"{mutant.shown} has no module docstring: its first line must name the bug "
                'in a learner\'s terms, e.g. """Rejects the smallest valid window, limit=1."""'
            )
        control = session.control(exercise)
        if not control.survived:
            raise MutantProblem(
                f"{test_file} does not pass against the reference solution when run in "
                f"isolation ({control.test or 'collection'}: {control.message}), so no mutant "
                f"of {exercise.id} can be judged. Fix that first."
            )
        verdict = session.judge(mutant, getattr(self.config, "cache", None))
        if verdict.survived:
            raise MutantProblem(
                f"{mutant.shown} survived: no test caught it.\n"
                f"  The bug: {mutant.description}\n"
                f"  All {verdict.tests_run} tests of {test_file} passed against this wrong "
                "solution: add a test, or an assertion, that fails on it."
            )
        if verdict.outcome == "error":
            raise MutantProblem(
                f"{mutant.shown} — {mutant.description}\n"
                f"could not be judged: {verdict.test + ': ' if verdict.test else ''}"
                f"{verdict.message}"
            )
        self.user_properties.append(("caught_by", verdict.test))

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        if isinstance(excinfo.value, MutantProblem):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.mutant.path, None, f"{self.mutant.shown}: {self.mutant.description}"


@pytest.hookimpl(tryfirst=True)
def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under --verify-mutants only exercise test modules are collected (as their mutants)."""
    if not _verifying_mutants(config):
        return None
    path = collection_path
    if path.is_dir():
        if path == NOTEBOOKS_DIR or path.is_relative_to(MUTANTS_DIR):
            return True
        if path.is_relative_to(TESTS_DIR) and path != TESTS_DIR:
            lesson_folder = path.relative_to(TESTS_DIR).parts[0]
            return None if LESSON_FOLDER.match(lesson_folder) else True
        return None
    return None if exercise_for_test_file(path) else True


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> Any:
    if _verifying_mutants(parent.config) and exercise_for_test_file(module_path):
        return ExerciseMutants.from_parent(parent, path=module_path)
    return None


def pytest_collection_finish(session: pytest.Session) -> None:
    if not _verifying_mutants(session.config):
        return
    stray = stray_mutant_paths()
    if stray:
        names = ", ".join(str(p.relative_to(MUTANTS_DIR.parent)) for p in stray)
        raise pytest.UsageError(
            f"these belong to no exercise: {names}. A mutant is "
            "mutants/NN_topic/<module>/<bug>.py (a folder <bug>/ for a package exercise), "
            "where <module> is an exercise's module in lessons/NN_topic/lesson.toml."
        )


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    session = config.stash.get(_SESSION_KEY, None)
    if session is None:
        return
    write = terminalreporter.write_line
    caught = [(m, v) for m, v in session.verdicts if v.caught]
    terminalreporter.section("kept wrong solutions")
    write(
        f"{len(session.verdicts)} mutants judged: {len(caught)} caught, "
        f"{sum(v.survived for _, v in session.verdicts)} survived, "
        f"{sum(v.outcome == 'error' for _, v in session.verdicts)} not judged"
    )
    if config.getoption("verbose") > 0:
        for mutant, verdict in caught:
            test = verdict.test.split("::", 1)[-1]
            write(f"  {mutant.shown}: caught by {test} ({verdict.seconds:.2f} s)")
    bare = [e.id for e in session.exercises_seen if not mutants_of(e)]
    if bare:
        write(f"exercises with no mutants yet: {', '.join(bare)}")
