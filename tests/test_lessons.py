"""The exercise contract, checked for every written lesson (see DESIGN.md and DEVELOPERS.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from journey.catalog import EXERCISES_DIR, LESSONS_DIR, SOLUTIONS_DIR, Exercise, Lesson, lessons
from journey.mutation import all_mutants, stray_mutant_paths

README_SECTIONS = (
    "What you will learn",
    "Concepts",
    "Examples",
    "Exercises",
    "Journal prompt",
    "Official docs",
    "In the capstone",
)


def _lesson_params() -> list[object]:
    return [pytest.param(lesson, id=lesson.folder) for lesson in lessons()]


def _exercise_params() -> list[object]:
    return [pytest.param(e, id=e.id) for lesson in lessons() for e in lesson.exercises]


GENERATED = ("_pb2.py", "_pb2_grpc.py")  # protoc's output: nobody writes or finishes it by hand


def _python_files(source: Path) -> dict[str, Path]:
    if source.is_dir():
        return {
            str(p.relative_to(source)): p
            for p in sorted(source.rglob("*.py"))
            if not p.name.endswith(GENERATED)
        }
    return {source.name: source}


def _public_surface(path: Path) -> dict[str, tuple[str, ...]]:
    """Top-level public names, with the parameter names of functions and of class methods."""
    surface: dict[str, tuple[str, ...]] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith(
            "_"
        ):
            surface[node.name] = tuple(a.arg for a in node.args.args + node.args.kwonlyargs)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            surface[node.name] = ()
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and (
                    not item.name.startswith("_") or item.name in ("__init__", "__call__")
                ):
                    args = tuple(a.arg for a in item.args.args + item.args.kwonlyargs)
                    surface[f"{node.name}.{item.name}"] = args
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and not target.id.startswith("_"):
                    surface[target.id] = ()
    return surface


@pytest.mark.parametrize("lesson", _lesson_params())
def test_lesson_has_every_part(lesson: Lesson) -> None:
    examples = sorted((LESSONS_DIR / lesson.folder / "examples").glob("[0-9]*.py"))
    assert len(examples) >= 3, f"{lesson.folder} needs at least three numbered examples"
    assert len(lesson.exercises) >= 6, f"{lesson.folder} needs at least six exercises"
    assert lesson.exercises[-1].difficulty == "capstone", (
        f"the last exercise of {lesson.folder} builds the capstone piece (difficulty 'capstone')"
    )
    assert lesson.notebook.exists(), f"{lesson.folder} has no notebook at {lesson.notebook}"
    readme = lesson.readme.read_text(encoding="utf-8")
    headings = [line.lstrip("#").strip() for line in readme.splitlines() if line.startswith("## ")]
    for section in README_SECTIONS:
        assert any(h.startswith(section) for h in headings), (
            f"lessons/{lesson.folder}/README.md has no '## {section}' section"
        )


@pytest.mark.parametrize("exercise", _exercise_params())
def test_stub_and_solution_share_a_public_surface(exercise: Exercise) -> None:
    stub, solution = exercise.source("exercises"), exercise.source("solutions")
    assert stub.exists(), f"{exercise.id}: no stub at {stub}"
    assert solution.exists(), f"{exercise.id}: no solution at {solution}"
    stub_files, solution_files = _python_files(stub), _python_files(solution)
    assert stub_files.keys() == solution_files.keys(), f"{exercise.id}: different files"
    for name, stub_file in stub_files.items():
        assert _public_surface(stub_file) == _public_surface(solution_files[name]), (
            f"{exercise.id}: {name} must expose the same names and parameters in both trees"
        )


@pytest.mark.parametrize("exercise", _exercise_params())
def test_stub_is_unfinished_and_solution_is_finished(exercise: Exercise) -> None:
    stub_text = "".join(
        p.read_text(encoding="utf-8") for p in _python_files(exercise.source("exercises")).values()
    )
    solution_text = "".join(
        p.read_text(encoding="utf-8") for p in _python_files(exercise.source("solutions")).values()
    )
    assert f'NotImplementedError("{exercise.id}: ' in stub_text, (
        f'{exercise.id}: stub bodies raise NotImplementedError("{exercise.id}: <what to do>")'
    )
    assert "NotImplementedError" not in solution_text, f"{exercise.id}: the solution is a stub"
    assert exercise.test_file.exists(), f"{exercise.id}: no tests at {exercise.test_file}"


def test_every_exercise_folder_belongs_to_a_lesson() -> None:
    known = {lesson.folder for lesson in lessons()}
    for tree in (EXERCISES_DIR, SOLUTIONS_DIR):
        if tree.exists():
            stray = {p.name for p in tree.iterdir() if p.is_dir()} - known - {"__pycache__"}
            assert not stray, f"{tree.name}/ has folders with no lesson.toml: {sorted(stray)}"


def test_every_kept_mutant_names_its_bug_and_belongs_to_an_exercise() -> None:
    """mutants/NN_topic/<module>/<bug>.py (a folder for a package): see DEVELOPERS.md."""
    for mutant in all_mutants():
        assert mutant.description, (
            f"{mutant.shown}: the first line of its module docstring must name the bug"
        )
    stray = [str(path) for path in stray_mutant_paths()]
    assert not stray, f"these belong to no exercise's mutants: {stray}"


def test_the_shipped_stubs_manifests_are_current() -> None:
    """journey/shipped/NN_topic.json is how `journey reset` and "not started" know a stub."""
    from journey.stubs import stale_lessons

    stale = stale_lessons()
    assert not stale, (
        f"the shipped-stub manifest of {stale} does not match exercises/: after changing a stub, "
        "run `uv run python -m journey.stubs` and commit journey/shipped/"
    )
