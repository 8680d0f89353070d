"""Imports a lesson's modules from ``exercises/`` (the default) or ``solutions/``.

Lesson folders start with a digit, so ``import`` cannot reach them. Each folder is registered
as a package with a unique name (``journey_lessons.solutions.l01_fundamentals``), which means
modules inside one lesson can use relative imports, and two lessons may both have a
``models.py`` without clashing.

Tests ask for a module of their own lesson::

    from journey.targets import load

    money = load(__file__, "money")

and get the learner's exercise, or the reference solution under ``pytest --solutions``
(which sets ``JOURNEY_TARGET=solutions``). This module is the one place that reads and sets
``JOURNEY_TARGET``: :func:`current_target` and :func:`set_target`.

Substitutes
-----------
:func:`substitute` makes one module of a lesson come from another file, under the lesson's own
package name, so the rest of the lesson (and its relative imports) stays as it is::

    substitute("01_fundamentals", "money", Path("mutants/01_fundamentals/money/half_up.py"))
    money = load("tests/01_fundamentals/test_money.py", "money")   # the mutant, as ``money``

The replacement is a ``.py`` file for a one-module exercise, or a package folder (with its
``__init__.py``) for a package exercise. A substitute must be registered before the module is
first imported: the mutation runner (``journey.mutation``) does it in a fresh child process.
A substituted module's ``__file__`` is the replacement's path, so a module that reads files
beside itself should be a package exercise, whose replacement folder carries those files.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Literal

from journey.catalog import MUTANTS_DIR, ROOT, TESTS_DIR, TREES

Target = Literal["exercises", "solutions"]
TARGETS: tuple[Target, ...] = ("exercises", "solutions")
TARGET_ENV = "JOURNEY_TARGET"
PACKAGE_ROOT = "journey_lessons"
_TARGET_DIRS: dict[str, Path] = dict(TREES)


class ExerciseImportError(Exception):
    """A lesson module failed while being imported; the message names its file and line."""


def current_target() -> Target:
    """Which tree the tests run against: ``JOURNEY_TARGET``, ``exercises`` when unset."""
    value = os.environ.get(TARGET_ENV, "exercises")
    if value == "exercises":
        return "exercises"
    if value == "solutions":
        return "solutions"
    raise ValueError(f"{TARGET_ENV} must be 'exercises' or 'solutions', not {value!r}")


def set_target(target: Target) -> None:
    """Makes every later :func:`load` (in this process and its children) use ``target``."""
    if target not in TARGETS:
        raise ValueError(f"the target must be 'exercises' or 'solutions', not {target!r}")
    os.environ[TARGET_ENV] = target


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


def package_name(lesson_folder: str, target: Target | None = None) -> str:
    """The dotted name a lesson folder of a target is imported under (nothing is imported)."""
    return f"{PACKAGE_ROOT}.{target or current_target()}.l{lesson_folder}"


def lesson_package(lesson_folder: str, target: Target | None = None) -> str:
    """Registers a lesson folder of a target as a package and returns its dotted name."""
    target = target or current_target()
    folder = _TARGET_DIRS[target] / lesson_folder
    if not folder.is_dir():
        raise ModuleNotFoundError(f"{target}/{lesson_folder} does not exist")
    _namespace(PACKAGE_ROOT, None)
    _namespace(f"{PACKAGE_ROOT}.{target}", None)
    name = package_name(lesson_folder, target)
    _namespace(name, folder)
    return name


def lesson_of(path: str | Path) -> str:
    """The lesson folder a file belongs to: ``tests/01_fundamentals/test_money.py``, or a file
    under ``exercises/``, ``solutions/`` or ``mutants/``, belongs to ``01_fundamentals``."""
    resolved = Path(path).resolve()
    for tree in (TESTS_DIR, *_TARGET_DIRS.values(), MUTANTS_DIR):
        if resolved.is_relative_to(tree) and resolved != tree:
            return resolved.relative_to(tree).parts[0]
    raise ValueError(f"{resolved} is not under {TESTS_DIR} (nor exercises/, solutions/, mutants/)")


def load(test_file: str | Path, module: str, target: Target | None = None) -> ModuleType:
    """Imports ``module`` from the lesson that ``test_file`` belongs to.

    An error raised while importing it (a typo, a ``NameError`` at module level, a syntax
    error) becomes an :class:`ExerciseImportError` whose message names the file and line.
    """
    package = lesson_package(lesson_of(test_file), target)
    try:
        return importlib.import_module(f"{package}.{module}")
    except Exception as error:
        raise ExerciseImportError(describe_import_error(error)) from error


def _shown(path: str) -> str:
    """A path as a learner knows it: relative to the lab when it is inside."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except (ValueError, OSError):
        return path


def describe_import_error(error: BaseException) -> str:
    """``exercises/01_fundamentals/money.py, line 12: NameError: name 'x' is not defined``:
    the deepest place inside the lab where it went wrong, then the error itself."""
    what = f"{type(error).__name__}: {error}"
    if isinstance(error, SyntaxError) and error.filename:
        what = f"{type(error).__name__}: {error.msg}"
        return f"{_shown(error.filename)}, line {error.lineno}: {what}"
    frames = traceback.extract_tb(error.__traceback__)
    inside = [
        frame
        for frame in frames
        if Path(frame.filename).is_absolute()
        and Path(frame.filename).resolve().is_relative_to(ROOT)
        and not Path(frame.filename).resolve().is_relative_to(ROOT / "journey")
    ]
    if not inside:
        return what
    frame = inside[-1]
    return f"{_shown(frame.filename)}, line {frame.lineno}: {what}"


# -- substitutes ---------------------------------------------------------------------------

_substitutes: dict[str, Path] = {}


class _SubstituteFinder(importlib.abc.MetaPathFinder):
    """Finds registered substitutes before the normal import machinery looks at the lesson."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        replacement = _substitutes.get(fullname)
        if replacement is None:
            return None
        if replacement.is_dir():
            return importlib.util.spec_from_file_location(
                fullname,
                replacement / "__init__.py",
                submodule_search_locations=[str(replacement)],
            )
        return importlib.util.spec_from_file_location(fullname, replacement)


_FINDER = _SubstituteFinder()


def substitute(
    lesson_folder: str, module: str, replacement: Path, target: Target | None = None
) -> str:
    """From now on, importing ``module`` of the lesson imports ``replacement`` instead.

    Returns the dotted name the replacement is imported under. Raises ``RuntimeError`` when
    the module was already imported in this process: a substitute only works on a fresh import.
    """
    replacement = replacement.resolve()
    if replacement.is_dir() and not (replacement / "__init__.py").is_file():
        raise ValueError(f"{replacement} is a folder without __init__.py: not a package")
    if not replacement.is_dir() and not replacement.is_file():
        raise FileNotFoundError(f"{replacement} does not exist")
    name = f"{lesson_package(lesson_folder, target)}.{module}"
    if name in sys.modules:
        raise RuntimeError(f"{name} is already imported: substitute it before the first import")
    _substitutes[name] = replacement
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    return name


def source_path(lesson_folder: str, module: str, target: Target | None = None) -> Path:
    """The file :func:`load` would import for ``module`` of a lesson, without importing it:
    the registered substitute, or else the module's file (a package's folder) in the target's
    tree.

    For exercises whose answer is a test file (lesson 11): the lab's tests hand the learner's
    file to a test runner instead of importing it, and under ``--verify-mutants`` a kept wrong
    test file stands in for it as a substitute.
    """
    name = f"{package_name(lesson_folder, target)}.{module}"
    if name in _substitutes:
        return _substitutes[name]
    folder = _TARGET_DIRS[target or current_target()] / lesson_folder
    package = folder / module
    return package if package.is_dir() else folder / f"{module}.py"


def clear_substitutes() -> None:
    """Forgets every substitute (modules already imported stay as they are)."""
    _substitutes.clear()
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
