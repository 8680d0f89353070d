"""Runs test files against other implementations of a lesson module: kept wrong solutions
("mutants") that the tests must catch, and, turned round, other correct ones they must pass.

Kept wrong solutions
--------------------
``mutants/NN_topic/<module>/<bug>.py`` is a full copy of ``solutions/NN_topic/<module>.py``
with one plausible bug; the first line of its module docstring names the bug in a learner's
terms (``Rejects the smallest valid window, limit=1.``).

For a **package** exercise (``exercises/NN_topic/<package>/``, e.g. 04's ``name_backfill``)
a mutant is a folder ``mutants/NN_topic/<package>/<bug>/`` that holds only the files that
differ from the solution package, at the same relative paths (``<bug>/migrations/versions/
v0002_split_customer_names.py``). The runner lays them over a temporary copy of the solution
package, so files the package reads beside itself (migrations, templates) come along. The
bug's name is the first docstring line of the first ``.py`` file in the folder (sorted by
path).

``uv run pytest --verify-mutants [paths]`` (see ``journey.testmodes``) judges every mutant of
the selected exercises with :func:`judge` and fails for each one that survives.

The API
-------
:func:`judge` runs test files against one implementation of one module, in a child process
(``journey.testrun``): the lesson's modules are imported afresh, the implementation stands in
for the module under the lesson's own package name (its relative imports of sibling modules
still work), the run stops at the first failing test, each test has its time limit, and
nothing is left running afterwards. It returns a :class:`Verdict`:

* ``caught``: a test failed in its body or teardown, or ran past its time limit (``test``
  names it, ``message`` says why);
* ``survived``: every test that ran passed;
* ``error``: the implementation could not be judged: it does not import, a fixture failed
  (a backing service is down...), or no test ran.

``implementation=None`` runs against the module of ``target`` itself (the reference solution
by default): the control that shows the tests pass before any mutant is blamed.

Turned round (lesson 11: the learner writes the tests)
------------------------------------------------------
The same call judges a learner's test file. Keep several correct implementations ("wheats")
and planted-bug versions ("chaffs") of the module under test, e.g. in
``solutions/11_testing/wheats/<module>/*.py`` and ``solutions/11_testing/chaffs/<module>/*.py``;
the learner's test file gets the module with ``load(__file__, "<module>")`` like any test
(``load`` accepts a file under ``exercises/`` too)::

    from journey.mutation import TestRunner, judge

    runner = TestRunner()              # one warm runner for all the runs
    tests = [exercise_test_file]        # e.g. exercises/11_testing/test_cart.py
    for wheat in wheats:                # every correct implementation must pass ...
        verdict = judge(tests, "11_testing", "cart", wheat, runner=runner,
                        stop_at_first_failure=False)
        ok = verdict.survived           # ... so "survived" is what a wheat should get
    for chaff in chaffs:                # ... and every planted bug must be caught
        verdict = judge(tests, "11_testing", "cart", chaff, runner=runner)
        ok = verdict.caught             # verdict.test is the learner's test that caught it

``Verdict.description`` is the implementation's docstring line, ready to show the learner
("your tests let this one through: <description>").
"""

from __future__ import annotations

import ast
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from journey.catalog import MUTANTS_DIR, ROOT, TREES, Exercise, lessons
from journey.testrun import RunResult, RunSpec, Substitute, TestRunner

__all__ = ["Mutant", "TestRunner", "Verdict", "all_mutants", "judge", "mutants_of"]

Outcome = Literal["caught", "survived", "error"]


def first_docstring_line(path: Path) -> str:
    """The first line of a module's docstring, or "" when it has none (or cannot be parsed)."""
    try:
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return ""
    return docstring.strip().splitlines()[0].strip() if docstring and docstring.strip() else ""


def describe(implementation: Path) -> str:
    """What an implementation (a file, or a folder of files for a package) says it is."""
    if implementation.is_dir():
        for file in sorted(implementation.rglob("*.py")):
            if line := first_docstring_line(file):
                return line
        return ""
    return first_docstring_line(implementation)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Mutant:
    """A kept wrong solution of one exercise."""

    path: Path
    exercise: Exercise

    @property
    def name(self) -> str:
        return self.path.stem if self.path.is_file() else self.path.name

    @property
    def description(self) -> str:
        return describe(self.path)

    @property
    def shown(self) -> str:
        return _shown(self.path)


def mutants_of(exercise: Exercise) -> list[Mutant]:
    """The kept wrong solutions of an exercise: ``mutants/NN_topic/<module>/*``."""
    folder = MUTANTS_DIR / exercise.lesson_folder / exercise.module
    if not folder.is_dir():
        return []
    package = exercise.source("solutions").is_dir()
    found = [
        path
        for path in sorted(folder.iterdir())
        if not path.name.startswith((".", "_"))
        and ((path.is_dir() and package) or (path.suffix == ".py" and not package))
    ]
    return [Mutant(path, exercise) for path in found]


def all_mutants() -> list[Mutant]:
    return [m for lesson in lessons() for e in lesson.exercises for m in mutants_of(e)]


def stray_mutant_paths() -> list[Path]:
    """Anything under ``mutants/`` that belongs to no exercise (a typo in a folder name...)."""
    known = {(e.lesson_folder, e.module): e for lesson in lessons() for e in lesson.exercises}
    stray: list[Path] = []
    if not MUTANTS_DIR.is_dir():
        return stray
    for lesson_dir in sorted(p for p in MUTANTS_DIR.iterdir() if not p.name.startswith(".")):
        if not lesson_dir.is_dir():
            stray.append(lesson_dir)
            continue
        for module_dir in sorted(p for p in lesson_dir.iterdir() if not p.name.startswith(".")):
            exercise = known.get((lesson_dir.name, module_dir.name))
            if exercise is None or not module_dir.is_dir():
                stray.append(module_dir)
                continue
            kept = {m.path for m in mutants_of(exercise)}
            stray += [
                p
                for p in sorted(module_dir.iterdir())
                if p not in kept and p.name != "__pycache__" and not p.name.startswith(".")
            ]
    return stray


@dataclass(frozen=True)
class Verdict:
    """What the tests made of one implementation."""

    implementation: str  # its path, relative to the lab, or "the reference solution"
    description: str  # its docstring's first line
    outcome: Outcome
    test: str = ""  # the test that caught it (its node id)
    message: str = ""  # why it was caught, or why it could not be judged
    tests_run: int = 0
    seconds: float = 0.0

    @property
    def caught(self) -> bool:
        return self.outcome == "caught"

    @property
    def survived(self) -> bool:
        """Every test passed: the wrong outcome for a mutant, the right one for a wheat."""
        return self.outcome == "survived"


def verdict_of(result: RunResult, implementation: str, description: str) -> Verdict:
    """Reads a run: the first test that failed in its body (or teardown, or by its time limit)
    caught the implementation; a setup failure or an import error means it was not judged."""

    def verdict(outcome: Outcome, test: str = "", message: str = "") -> Verdict:
        return Verdict(
            implementation,
            description,
            outcome,
            test,
            message,
            tests_run=len(result.tests),
            seconds=result.seconds,
        )

    if result.collection_errors:
        error = result.collection_errors[0]
        return verdict("error", error.file, f"the tests could not be collected: {error.message}")
    for test in result.tests:
        if test.not_run:
            continue
        if test.outcome == "failed" and (test.phase != "setup" or test.timed_out):
            return verdict("caught", test.nodeid, test.message)
        if test.outcome == "failed":
            return verdict("error", test.nodeid, f"setup failed: {test.message}")
    if result.crashed:
        return verdict("error", "", result.crashed)
    if not result.tests:
        return verdict("error", "", "no test ran")
    skipped = [t for t in result.tests if t.outcome == "skipped"]
    if skipped and len(skipped) == len(result.tests):
        return verdict("error", skipped[0].nodeid, f"every test was skipped: {skipped[0].message}")
    return verdict("survived")


@contextmanager
def _materialised(
    lesson_folder: str, module: str, implementation: Path, target: str
) -> Iterator[Path]:
    """The path that stands in for the module: the file itself, or for a package a temporary
    copy of the target's package with the implementation's files laid over it."""
    original = TREES[target] / lesson_folder / module
    if not original.is_dir():
        if implementation.is_dir():
            raise ValueError(f"{_shown(implementation)} is a folder, but {module} is a module")
        yield implementation
        return
    if not implementation.is_dir():
        raise ValueError(
            f"{_shown(implementation)} is a file, but {module} is a package: a package's mutant "
            "is a folder holding the files that differ"
        )
    with tempfile.TemporaryDirectory(prefix="journey-mutant-") as scratch:
        merged = Path(scratch) / module
        shutil.copytree(original, merged, ignore=shutil.ignore_patterns("__pycache__"))
        for file in implementation.rglob("*"):
            if file.is_file() and "__pycache__" not in file.parts:
                destination = merged / file.relative_to(implementation)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(file, destination)
        yield merged


def judge(
    test_files: Sequence[str | Path],
    lesson_folder: str,
    module: str,
    implementation: Path | None,
    *,
    target: str = "solutions",
    runner: TestRunner | None = None,
    stop_at_first_failure: bool = True,
    env: dict[str, str] | None = None,
    first: Sequence[str] = (),
) -> Verdict:
    """Runs ``test_files`` with ``module`` of ``lesson_folder`` replaced by ``implementation``
    (None: the target's own module) and says whether a test caught it. ``first`` names tests
    (node ids) to run before the others: the one that caught this implementation last time
    makes a run that stops at the first failure much shorter."""
    runner = runner or TestRunner()
    files = tuple(str(Path(f).resolve()) for f in test_files)
    if implementation is None:
        name, description = "the reference solution", ""
        spec = RunSpec(files, target, (), stop_at_first_failure, env=dict(env or {}))
        return verdict_of(runner.run(spec), name, description)
    with _materialised(lesson_folder, module, implementation, target) as stand_in:
        substitutes = (Substitute(lesson_folder, module, str(stand_in)),)
        spec = RunSpec(
            files,
            target,
            substitutes,
            stop_at_first_failure,
            env=dict(env or {}),
            first=tuple(first),
        )
        result = runner.run(spec)
    return verdict_of(result, _shown(implementation), describe(implementation))
