"""The loader gives every lesson folder a package of its own."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from journey import targets


@pytest.fixture
def trees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for target in ("exercises", "solutions"):
        for lesson, value in (("90_alpha", 1), ("91_beta", 2)):
            folder = tmp_path / target / lesson
            (folder / "shop").mkdir(parents=True)
            (folder / "models.py").write_text(f"VALUE = {value}\nTARGET = {target!r}\n")
            (folder / "shop" / "__init__.py").write_text("from .prices import price\n")
            (folder / "shop" / "prices.py").write_text(f"def price() -> int:\n    return {value}\n")
    monkeypatch.setattr(
        targets,
        "_TARGET_DIRS",
        {"exercises": tmp_path / "exercises", "solutions": tmp_path / "solutions"},
    )
    monkeypatch.setattr(targets, "TESTS_DIR", tmp_path / "tests")
    yield tmp_path
    for name in [n for n in sys.modules if n.startswith(f"{targets.PACKAGE_ROOT}.") and "9" in n]:
        del sys.modules[name]


def test_two_lessons_may_share_a_module_name(trees: Path) -> None:
    alpha = targets.load(trees / "tests" / "90_alpha" / "test_x.py", "models", "solutions")
    beta = targets.load(trees / "tests" / "91_beta" / "test_x.py", "models", "solutions")
    assert (alpha.VALUE, beta.VALUE) == (1, 2)


def test_relative_imports_work_inside_a_lesson_package(trees: Path) -> None:
    shop = targets.load(trees / "tests" / "91_beta" / "test_x.py", "shop", "exercises")
    assert shop.price() == 2


def test_the_target_comes_from_the_environment(
    trees: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    test_file = trees / "tests" / "90_alpha" / "test_x.py"
    monkeypatch.setenv(targets.TARGET_ENV, "exercises")
    assert targets.load(test_file, "models").TARGET == "exercises"
    monkeypatch.setenv(targets.TARGET_ENV, "solutions")
    assert targets.load(test_file, "models").TARGET == "solutions"
    monkeypatch.setenv(targets.TARGET_ENV, "answers")
    with pytest.raises(ValueError, match="exercises' or 'solutions'"):
        targets.current_target()


@pytest.fixture
def substitutes() -> Iterator[None]:
    yield
    targets.clear_substitutes()


def test_a_substitute_module_is_imported_under_the_lessons_name(
    trees: Path, tmp_path: Path, substitutes: None
) -> None:
    mutant = tmp_path / "models_mutant.py"
    mutant.write_text("from .shop import price\nVALUE = price() * 100\n")
    name = targets.substitute("91_beta", "models", mutant, "solutions")
    models = targets.load(trees / "tests" / "91_beta" / "test_x.py", "models", "solutions")
    assert models.__name__ == name
    assert models.VALUE == 200, "the substitute's relative import reaches its sibling module"
    assert (
        targets.load(trees / "tests" / "90_alpha" / "test_x.py", "models", "solutions").VALUE == 1
    )
    with pytest.raises(RuntimeError, match="already imported"):
        targets.substitute("91_beta", "models", mutant, "solutions")


def test_a_substitute_package_replaces_the_whole_package(
    trees: Path, tmp_path: Path, substitutes: None
) -> None:
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("from .prices import price\n")
    (package / "prices.py").write_text("def price() -> int:\n    return -1\n")
    targets.substitute("90_alpha", "shop", package, "exercises")
    shop = targets.load(trees / "tests" / "90_alpha" / "test_x.py", "shop", "exercises")
    assert shop.price() == -1


def test_an_import_error_names_the_file_and_line(trees: Path) -> None:
    broken = trees / "solutions" / "90_alpha" / "broken.py"
    broken.write_text("VALUE = 1\nOTHER = missing_name\n")
    with pytest.raises(targets.ExerciseImportError, match=r"broken\.py, line 2: NameError"):
        targets.load(trees / "tests" / "90_alpha" / "test_x.py", "broken", "solutions")


def test_set_target_is_the_one_way_to_choose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(targets.TARGET_ENV, "exercises")
    targets.set_target("solutions")
    assert targets.current_target() == "solutions"
    with pytest.raises(ValueError, match="exercises' or 'solutions'"):
        targets.set_target("answers")  # type: ignore[arg-type]
