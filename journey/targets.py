"""Imports a lesson's modules from ``exercises/`` (the default) or ``solutions/``.

Lesson folders start with a digit, so ``import`` cannot reach them. Each folder is registered
as a package with a unique name (``journey_lessons.solutions.l01_fundamentals``), which means
modules inside one lesson can use relative imports, and two lessons may both have a
``models.py`` without clashing.

Tests ask for a module of their own lesson::

    from journey.targets import load

    money = load(__file__, "money")

and get the learner's exercise, or the reference solution under ``pytest --solutions``
(which sets ``JOURNEY_TARGET=solutions``).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Literal

from journey.catalog import EXERCISES_DIR, SOLUTIONS_DIR, TESTS_DIR

Target = Literal["exercises", "solutions"]
TARGET_ENV = "JOURNEY_TARGET"
PACKAGE_ROOT = "journey_lessons"
_TARGET_DIRS: dict[str, Path] = {"exercises": EXERCISES_DIR, "solutions": SOLUTIONS_DIR}


def current_target() -> Target:
    """Which tree the tests run against: ``JOURNEY_TARGET``, ``exercises`` when unset."""
    value = os.environ.get(TARGET_ENV, "exercises")
    if value == "exercises":
        return "exercises"
    if value == "solutions":
        return "solutions"
    raise ValueError(f"{TARGET_ENV} must be 'exercises' or 'solutions', not {value!r}")


def _namespace(name: str, path: Path | None) -> ModuleType:
    """A package module with no ``__init__.py`` of its own, created once."""
    if name in sys.modules:
        return sys.modules[name]
    module = ModuleType(name)
    module.__path__ = [str(path)] if path else []
    module.__package__ = name
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module


def lesson_package(lesson_folder: str, target: Target | None = None) -> str:
    """Registers a lesson folder of a target as a package and returns its dotted name."""
    target = target or current_target()
    folder = _TARGET_DIRS[target] / lesson_folder
    if not folder.is_dir():
        raise ModuleNotFoundError(f"{target}/{lesson_folder} does not exist")
    _namespace(PACKAGE_ROOT, None)
    _namespace(f"{PACKAGE_ROOT}.{target}", None)
    name = f"{PACKAGE_ROOT}.{target}.l{lesson_folder}"
    _namespace(name, folder)
    return name


def lesson_of(test_file: str | Path) -> str:
    """``tests/01_fundamentals/test_money.py`` belongs to lesson folder ``01_fundamentals``."""
    path = Path(test_file).resolve()
    try:
        return path.relative_to(TESTS_DIR).parts[0]
    except ValueError:
        raise ValueError(f"{path} is not under {TESTS_DIR}") from None


def load(test_file: str | Path, module: str, target: Target | None = None) -> ModuleType:
    """Imports ``module`` from the lesson that ``test_file`` belongs to."""
    package = lesson_package(lesson_of(test_file), target)
    return importlib.import_module(f"{package}.{module}")
