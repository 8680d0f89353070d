"""The lessons and their exercises, read from each lesson's ``lesson.toml``.

This module stays cheap to import (standard library only): the pytest plugin and the CLI both
read the catalogue on every run, and a learner runs checks hundreds of times.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parent.parent
LESSONS_DIR = ROOT / "lessons"
EXERCISES_DIR = ROOT / "exercises"
SOLUTIONS_DIR = ROOT / "solutions"
TESTS_DIR = ROOT / "tests"
NOTEBOOKS_DIR = ROOT / "notebooks"
MUTANTS_DIR = ROOT / "mutants"
# The two trees a lesson's modules can be loaded from (see journey.targets).
TREES: dict[str, Path] = {"exercises": EXERCISES_DIR, "solutions": SOLUTIONS_DIR}

Difficulty = Literal["warm-up", "core", "capstone"]
ServiceName = Literal["postgres", "redis", "rabbitmq"]
DIFFICULTIES: tuple[str, ...] = ("warm-up", "core", "capstone")
SERVICE_NAMES: tuple[str, ...] = ("postgres", "redis", "rabbitmq")
LESSON_FOLDER = re.compile(r"^(?P<number>\d{2})_(?P<topic>[a-z][a-z0-9_]*)$")
EXERCISE_ID = re.compile(r"^(?P<lesson>\d{2})\.(?P<index>\d+)$")


# The twelve lessons of the syllabus, in order. A lesson appears here before its folder exists,
# so the dashboard can show the whole road ahead.
SYLLABUS: tuple[tuple[str, str], ...] = (
    ("01_fundamentals", "Python fundamentals"),
    ("02_data_io", "Files and data"),
    ("03_apis", "Building APIs"),
    ("04_databases", "SQL and NoSQL"),
    ("05_async", "Asynchronous and concurrent Python"),
    ("06_services", "Distributed essentials and inter-service communication"),
    ("07_messaging", "Messaging, streaming and background jobs"),
    ("08_security", "Authentication and security"),
    ("09_observability", "Logging, metrics, tracing"),
    ("10_containers", "Containerization and DevOps"),
    ("11_testing", "Testing and validation"),
    ("12_resilience", "Scalability and fault tolerance"),
)


class CatalogError(Exception):
    """A lesson.toml is missing or malformed, or a lesson or exercise id is unknown."""


@dataclass(frozen=True)
class Exercise:
    id: str
    module: str
    title: str
    difficulty: Difficulty
    hints: tuple[str, ...]
    services: tuple[ServiceName, ...]
    lesson_folder: str

    @property
    def test_file(self) -> Path:
        """Each exercise is checked by exactly one test module, named after it."""
        return TESTS_DIR / self.lesson_folder / f"test_{self.module}.py"

    def source(self, target: str) -> Path:
        """The exercise's file (or package folder) under ``exercises/`` or ``solutions/``."""
        base = TREES[target] / self.lesson_folder
        package = base / self.module
        return package if package.is_dir() else base / f"{self.module}.py"


@dataclass(frozen=True)
class Lesson:
    number: str
    folder: str
    title: str
    summary: str
    services: tuple[ServiceName, ...]
    exercises: tuple[Exercise, ...] = field(default_factory=tuple)

    @property
    def readme(self) -> Path:
        return LESSONS_DIR / self.folder / "README.md"

    @property
    def tests_dir(self) -> Path:
        return TESTS_DIR / self.folder

    @property
    def notebook(self) -> Path:
        return NOTEBOOKS_DIR / f"{self.folder}.ipynb"


def _require(table: dict[str, object], key: str, where: str) -> object:
    if key not in table:
        raise CatalogError(f"{where}: missing key {key!r}")
    return table[key]


def _services(value: object, where: str) -> tuple[ServiceName, ...]:
    if not isinstance(value, list) or any(s not in SERVICE_NAMES for s in value):
        raise CatalogError(f"{where}: services must be a list drawn from {SERVICE_NAMES}")
    return tuple(value)


def _parse_exercise(raw: dict[str, object], folder: str, number: str) -> Exercise:
    where = f"lessons/{folder}/lesson.toml, exercise {raw.get('id', '?')}"
    exercise_id = str(_require(raw, "id", where))
    match = EXERCISE_ID.match(exercise_id)
    if not match or match["lesson"] != number:
        raise CatalogError(f"{where}: id must look like {number}.K")
    difficulty = str(_require(raw, "difficulty", where))
    if difficulty not in DIFFICULTIES:
        raise CatalogError(f"{where}: difficulty must be one of {DIFFICULTIES}")
    hints = _require(raw, "hints", where)
    if not isinstance(hints, list) or not 2 <= len(hints) <= 3:
        raise CatalogError(f"{where}: give two or three hints, from gentle to specific")
    return Exercise(
        id=exercise_id,
        module=str(_require(raw, "module", where)),
        title=str(_require(raw, "title", where)),
        difficulty=difficulty,  # type: ignore[arg-type]  # checked against DIFFICULTIES above
        hints=tuple(str(h) for h in hints),
        services=_services(raw.get("services", []), where),
        lesson_folder=folder,
    )


def _parse_lesson(folder: str) -> Lesson:
    path = LESSONS_DIR / folder / "lesson.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise CatalogError(f"lessons/{folder} has no lesson.toml") from error
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"lessons/{folder}/lesson.toml is not valid TOML: {error}") from error
    number = folder[:2]
    lesson = data.get("lesson", {})
    where = f"lessons/{folder}/lesson.toml"
    exercises = tuple(_parse_exercise(raw, folder, number) for raw in data.get("exercises", []))
    ids = [e.id for e in exercises]
    if len(set(ids)) != len(ids):
        raise CatalogError(f"{where}: exercise ids repeat: {ids}")
    return Lesson(
        number=number,
        folder=folder,
        title=str(_require(lesson, "title", where)),
        summary=str(lesson.get("summary", "")),
        services=_services(lesson.get("services", []), where),
        exercises=exercises,
    )


@cache
def lessons() -> tuple[Lesson, ...]:
    """Every lesson folder under ``lessons/``, in order."""
    folders = sorted(
        p.name for p in LESSONS_DIR.iterdir() if p.is_dir() and LESSON_FOLDER.match(p.name)
    )
    return tuple(_parse_lesson(folder) for folder in folders)


def find_lesson(key: str) -> Lesson:
    """A lesson by number (``"1"``, ``"01"``) or folder name (``"01_fundamentals"``)."""
    wanted = key.strip().rstrip("/").split("/")[-1]
    if wanted.isdigit():
        wanted = wanted.zfill(2)
    for lesson in lessons():
        if wanted in (lesson.number, lesson.folder):
            return lesson
    valid = ", ".join(lesson.number for lesson in lessons())
    raise CatalogError(f"There is no lesson {key!r}. Lessons: {valid}.")


def find_exercise(exercise_id: str) -> Exercise:
    """An exercise by id (``"01.2"``); ``"1.2"`` is accepted too."""
    match = EXERCISE_ID.match(exercise_id.strip()) or re.match(
        r"^(?P<lesson>\d)\.(?P<index>\d+)$", exercise_id.strip()
    )
    if not match:
        raise CatalogError(f"{exercise_id!r} is not an exercise id: use the form NN.K, e.g. 01.2.")
    lesson = find_lesson(match["lesson"])
    normalized = f"{lesson.number}.{int(match['index'])}"
    for exercise in lesson.exercises:
        if exercise.id == normalized:
            return exercise
    valid = ", ".join(e.id for e in lesson.exercises) or "none yet"
    raise CatalogError(
        f"Lesson {lesson.number} has no exercise {exercise_id}. Its exercises: {valid}."
    )


@cache  # asked for every test report (three per test): resolving paths each time adds up
def exercise_for_test_file(path: Path) -> Exercise | None:
    """The exercise a test module checks, or None for a lesson's other tests (examples...)."""
    try:
        relative = path.resolve().relative_to(TESTS_DIR)
    except ValueError:
        return None
    if len(relative.parts) != 2 or not LESSON_FOLDER.match(relative.parts[0]):
        return None
    # A malformed lesson.toml raises here: silently treating every test as "not an exercise
    # test" would let --verify-stubs pass while checking nothing.
    for lesson in lessons():
        if lesson.folder == relative.parts[0]:
            for exercise in lesson.exercises:
                if exercise.test_file.name == relative.name:
                    return exercise
    return None
