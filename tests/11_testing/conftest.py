"""Lesson 11 judges test files: the learner's tests must pass on correct implementations of
the code under test ("wheats") and fail on planted-bug versions ("chaffs").

An exercise's lab test module names the module its learner tests (``SUBJECT = "slug"``) and
has two test functions; :func:`pytest_generate_tests` gives them one case per implementation::

    SUBJECT = "slug"

    def test_passes_on_a_correct_implementation(grader, wheat): grader.passes(wheat)
    def test_catches(grader, chaff): grader.catches(chaff)

The implementations:

* wheats: ``solutions/11_testing/<subject>.py`` (the code the learner reads; its copy in
  ``exercises/`` is theirs to play with, so it is never the one judged), and every
  ``subjects/<subject>/wheats/*.py`` beside this file: other correct implementations, which
  differ in what the docstring leaves open (an order, an error's wording, a header);
* chaffs: ``subjects/<subject>/chaffs/*.py``, each with one plausible misconception, which the
  first line of its docstring names in the learner's terms. That line is all a learner is shown
  of a chaff: never its code, nor its path.

Each judgement is one run of the learner's test file in a child process
(``journey.mutation.judge``, one warm runner for the session), with ``HOME`` and Hypothesis's
storage in a fresh temporary folder so that nothing a run writes outlives it. A chaff only
counts as caught when the same tests pass on every wheat: a file whose tests fail everywhere
catches nothing.
"""

from __future__ import annotations

import ast
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from journey import targets
from journey.catalog import ROOT, SOLUTIONS_DIR, Exercise, exercise_for_test_file

if TYPE_CHECKING:
    from journey.mutation import TestRunner, Verdict

LESSON = "11_testing"
SUBJECTS_DIR = Path(__file__).resolve().parent / "subjects"
# The heavy libraries a learner's tests import: the runner imports the ones a file names before
# its first run, so every child is forked with them loaded instead of importing them itself.
WARM_FIRST = ("httpx", "respx", "hypothesis", "fastapi", "fastapi.testclient", "schemathesis")
# Hypothesis's caches kept between checks (see hypothesis_home), in the lab's own state folder.
HYPOTHESIS_CACHE = ROOT / ".journey" / "cache" / "hypothesis"
KEPT_CACHES = ("unicode_data", "constants")
# A learner's environment must not send the judged runs elsewhere (11.8 reads it).
ENV_CLEARED = {"CONTRACT_BASE_URL": ""}


@dataclass(frozen=True)
class Implementation:
    """One implementation of the code under test: a wheat (correct) or a chaff (planted bug)."""

    path: Path
    kind: str  # "wheat" | "chaff"

    @property
    def name(self) -> str:
        return "as_shipped" if self.path.parent == SOLUTIONS_DIR / LESSON else self.path.stem

    @property
    def description(self) -> str:
        if self.name == "as_shipped":
            return f"the {self.path.name} you read in exercises/{LESSON}/"
        from journey.mutation import describe

        return describe(self.path) or self.name.replace("_", " ")


def implementations(subject: str, kind: str) -> list[Implementation]:
    """The wheats (the shipped one first) or the chaffs of a subject, in name order."""
    found = sorted((SUBJECTS_DIR / subject / f"{kind}s").glob("[!_]*.py"))
    if kind == "wheat":
        found.insert(0, SOLUTIONS_DIR / LESSON / f"{subject}.py")
    return [Implementation(path, kind) for path in found]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    subject = getattr(metafunc.module, "SUBJECT", None)
    for kind in ("wheat", "chaff"):
        if subject and kind in metafunc.fixturenames:
            found = implementations(subject, kind)
            metafunc.parametrize(kind, found, ids=[i.name for i in found])


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _test_name(nodeid: str) -> str:
    return nodeid.split("::", 1)[-1] or nodeid


class Grader:
    """Judges one learner test file against a subject's wheats and chaffs, each once."""

    def __init__(
        self,
        exercise: Exercise,
        subject: str,
        runner: TestRunner,
        hypothesis_home: Path,
        test_file: Path | None = None,
    ) -> None:
        self.exercise = exercise
        self.subject = subject
        self.runner = runner
        self.hypothesis_home = hypothesis_home
        self._test_file = test_file
        self.verdicts: dict[Path, Verdict] = {}

    @property
    def test_file(self) -> Path:
        """The file judged: the learner's (under --verify-mutants, the kept wrong test file
        that stands in for it), unless another was given."""
        return self._test_file or targets.source_path(LESSON, self.exercise.module)

    def _warm_up(self) -> None:
        """Imports here, once, the heavy libraries the test file imports (see WARM_FIRST)."""
        try:
            tree = ast.parse(self.test_file.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            return  # the run itself will say what is wrong with the file
        named = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        named |= {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        self.runner.warm([name for name in WARM_FIRST if name in named])

    def verdict(self, implementation: Implementation) -> Verdict:
        if implementation.path not in self.verdicts:
            from journey.mutation import judge

            if not self.verdicts:
                self._warm_up()
            with tempfile.TemporaryDirectory(prefix="journey-11-home-") as home:
                env = {
                    "HOME": home,
                    "HYPOTHESIS_STORAGE_DIRECTORY": str(self.hypothesis_home),
                    **ENV_CLEARED,
                }
                self.verdicts[implementation.path] = judge(
                    [self.test_file],
                    LESSON,
                    self.subject,
                    implementation.path,
                    target=targets.current_target(),
                    runner=self.runner,
                    env=env,
                )
        return self.verdicts[implementation.path]

    def _fail_on_wheat(self, wheat: Implementation, verdict: Verdict) -> NoReturn:
        """Says why the learner's tests did not pass on a correct implementation."""
        test = _test_name(verdict.test)
        if verdict.outcome == "error":
            where = f"{test}: " if verdict.test else ""
            pytest.fail(
                f"your tests in {_shown(self.test_file)} could not be run: {where}"
                f"{verdict.message}",
                pytrace=False,
            )
        if "NotImplementedError" in verdict.message:
            pytest.fail(f"{test} is not written yet: {verdict.message}", pytrace=False)
        pytest.fail(
            f"{test} fails on a correct {self.subject} ({wheat.description}): "
            f"{verdict.message} — test only what the docstring promises, not what it leaves "
            "open (an order, an error's wording, a format).",
            pytrace=False,
        )

    def passes(self, wheat: Implementation) -> None:
        """Fails unless every test of the learner's file passes on this correct one. While
        they fail on the shipped one, the others are not run: that is the first thing to fix."""
        shipped = implementations(self.subject, "wheat")[0]
        if wheat != shipped and not self.verdict(shipped).survived:
            self._fail_on_wheat(shipped, self.verdict(shipped))
        verdict = self.verdict(wheat)
        if not verdict.survived:
            self._fail_on_wheat(wheat, verdict)

    def caught_count(self) -> tuple[int, int]:
        chaffs = implementations(self.subject, "chaff")
        return sum(self.verdict(chaff).caught for chaff in chaffs), len(chaffs)

    def catches(self, chaff: Implementation) -> None:
        """Fails unless the learner's file passes on every wheat and fails on this chaff."""
        for wheat in implementations(self.subject, "wheat"):
            verdict = self.verdict(wheat)
            if not verdict.survived:
                self._fail_on_wheat(wheat, verdict)
        verdict = self.verdict(chaff)
        if verdict.outcome == "error":
            pytest.fail(
                f"your tests could not be run against a {self.subject} with a bug: "
                f"{verdict.message}",
                pytrace=False,
            )
        if verdict.survived:
            caught, total = self.caught_count()
            pytest.fail(
                f"your tests let a bug through: {chaff.description} Your test file catches "
                f"{caught} of {total} bugs: add a test that fails on this one.",
                pytrace=False,
            )


@pytest.fixture(scope="session")
def test_runner() -> TestRunner:
    from journey.mutation import TestRunner

    return TestRunner()


@pytest.fixture(scope="session")
def hypothesis_home() -> Iterator[Path]:
    """Hypothesis's storage for every judged run of the session: the tables it builds once
    (its Unicode character map...) are built once, not once per run, and the folder goes at
    the end. (Derandomized tests, as the lesson asks for, keep no example database.)

    Two of its caches are kept between sessions, in ``.journey/cache/hypothesis``: its
    Unicode tables and the constants it reads from the code under test. They depend only on
    Hypothesis's version and on a module's source (named by its hash), never on a run, and
    building them costs the first judged run of a check about two seconds. The example
    database is never kept: a run must not replay what another one found."""
    with tempfile.TemporaryDirectory(prefix="journey-11-hypothesis-") as folder:
        home = Path(folder)
        copy_caches(HYPOTHESIS_CACHE, home)
        yield home
        copy_caches(home, HYPOTHESIS_CACHE)


def copy_caches(source: Path, destination: Path) -> None:
    """Copies the kept caches' files that ``destination`` lacks, each whole or not at all
    (two checks at once may both write them). A cache that cannot be copied is rebuilt."""
    for name in KEPT_CACHES:
        for file in (source / name).rglob("*"):
            target = destination / name / file.relative_to(source / name)
            if not file.is_file() or file.name.startswith(".") or target.exists():
                continue
            with contextlib.suppress(OSError):
                target.parent.mkdir(parents=True, exist_ok=True)
                partial = target.with_name(f".{target.name}.{os.getpid()}")
                shutil.copyfile(file, partial)
                os.replace(partial, target)


@pytest.fixture(scope="module")
def grader(
    request: pytest.FixtureRequest, test_runner: TestRunner, hypothesis_home: Path
) -> Grader:
    """Judges the exercise's test file; nothing is run until a test asks for a verdict."""
    module_path = Path(str(request.module.__file__))
    exercise = exercise_for_test_file(module_path)
    assert exercise is not None, f"{module_path.name} is not the test module of an exercise"
    return Grader(exercise, request.module.SUBJECT, test_runner, hypothesis_home)


@pytest.fixture(scope="session")
def grader_parts() -> object:
    """This module itself, for the lesson's tests of the grading (test_grading.py)."""
    return sys.modules[__name__]
