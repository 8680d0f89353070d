"""``journey check --watch``: re-runs the exercise whose file was saved, from a warm process.

The watching process imports pytest and, after the first run, every library the lesson's tests
use; each run is a child forked from it (journey.testrun), so a save shows its verdict in a
fraction of a second. A lesson that needs PostgreSQL gets one test database for the whole watch
(each test still has its own schema), dropped when the watch ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from journey import services
from journey.catalog import EXERCISES_DIR, Exercise, Lesson
from journey.check import ExerciseReport, Listener, run_exercises
from journey.testrun import TestRunner


def affected(
    lesson: Lesson, changed: Iterable[Path], only: Exercise | None = None
) -> list[Exercise]:
    """The exercises to re-run after these files changed.

    ``exercises/NN_topic/<module>.py`` (or a file of its package) and
    ``tests/NN_topic/test_<module>.py`` belong to one exercise; any other file of the lesson
    (a conftest, a helper module) may matter to all of them. With ``only``, just that one.
    """
    chosen: dict[str, Exercise] = {}
    by_module = {e.module: e for e in lesson.exercises}
    by_test = {e.test_file.name: e for e in lesson.exercises}
    for path in changed:
        exercise: Exercise | None = None
        folder = EXERCISES_DIR / lesson.folder
        if path.is_relative_to(folder) and path != folder:
            first = path.relative_to(folder).parts[0]
            exercise = by_module.get(first.removesuffix(".py"))
        elif path.is_relative_to(lesson.tests_dir):
            exercise = by_test.get(path.name)
        if exercise is None:
            chosen.update((e.id, e) for e in lesson.exercises)
        else:
            chosen[exercise.id] = exercise
    exercises = [e for e in lesson.exercises if e.id in chosen]
    if only is not None:
        return [only] if exercises else []
    return exercises


def watched_folders(lesson: Lesson) -> list[Path]:
    return [EXERCISES_DIR / lesson.folder, lesson.tests_dir]


def _relevant(_change: Any, path: str) -> bool:
    return "__pycache__" not in path and not path.endswith((".pyc", "~", ".swp", ".tmp"))


def changes(lesson: Lesson) -> Iterator[set[Path]]:
    """Sets of changed files of the lesson, as the learner saves them (until Ctrl-C).

    The watch starts now, not at the first ``next()``: a file saved while the first check
    runs is seen too.
    """
    from watchfiles import watch

    batches = watch(
        *watched_folders(lesson),
        watch_filter=_relevant,
        debounce=400,
        step=30,
        rust_timeout=100,  # wake up now and then: the first batch returns at once
        yield_on_timeout=True,
    )
    first = next(batches)

    def saves() -> Iterator[set[Path]]:
        batch = first
        while True:
            if batch:
                yield {Path(path) for _, path in batch}
            batch = next(batches)

    return saves()


class WarmChecks:
    """Repeated checks of one lesson from this process, kept warm."""

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self.runner = TestRunner()
        self.env: dict[str, str] = {}
        self._database: tuple[str, str] | None = None

    def __enter__(self) -> WarmChecks:
        import pytest  # noqa: F401  (imported once here, not in every run)

        if "postgres" in self.lesson.services and services.probe("postgres") is None:
            from journey import pg
            from journey.pg import SESSION_DATABASE_ENV

            admin = services.SERVICES["postgres"].url
            with contextlib.suppress(Exception):  # without it, each run makes its own
                self._database = (admin, pg.create_test_database(admin))
                self.env[SESSION_DATABASE_ENV] = self._database[1]
        return self

    def run(
        self,
        exercises: Sequence[Exercise],
        listener: Listener | None = None,
        verbose: bool = False,
    ) -> list[ExerciseReport]:
        return run_exercises(
            exercises, runner=self.runner, listener=listener, env=self.env, verbose=verbose
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._database is not None:
            from journey import pg

            with contextlib.suppress(Exception):
                pg.drop_database(*self._database)
