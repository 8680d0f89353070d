"""The exercise contract, checked for every written lesson (see DESIGN.md and DEVELOPERS.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from journey.catalog import EXERCISES_DIR, LESSONS_DIR, SOLUTIONS_DIR, Exercise, Lesson, lessons
from journey.mutation import all_mutants, stray_mutant_paths

# A lesson README's level-2 sections, in this order (DESIGN.md, "Examples and notebooks").
README_SECTIONS = (
    "What you will learn",
    "Concepts",
    "Examples",
    "Exercises",
    "Check yourself",
    "Common mistakes",
    "Journal prompt",
    "Official docs",
    "In the capstone",
    "What comes next",
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
            # A test function's parameters are the fixtures its author picks (lesson 11, where
            # the exercise is a test file): only its name is part of the surface.
            arguments = node.args.args + node.args.kwonlyargs
            surface[node.name] = (
                () if node.name.startswith("test_") else tuple(a.arg for a in arguments)
            )
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


@pytest.mark.parametrize("lesson", _lesson_params())
def test_readme_has_every_section_in_order(lesson: Lesson) -> None:
    readme = lesson.readme.read_text(encoding="utf-8")
    headings = [line[3:].strip() for line in readme.splitlines() if line.startswith("## ")]
    found = [s for h in headings for s in README_SECTIONS if h.startswith(s)]
    assert found == list(README_SECTIONS), (
        f"lessons/{lesson.folder}/README.md: the level-2 sections must be, in this order, "
        f"{list(README_SECTIONS)}; found {found}"
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


# Wordings that Python or a library writes, not the learner's code: a test may match them.
LIBRARY_WORDINGS = frozenset(
    {
        "invalid literal",  # int("two"): the work a test hands to a pool raises it
        "Channel is closed",  # grpc.aio, once a channel is closed
    }
)


def _docstrings(source: Path) -> str:
    """Every docstring of a stub (module, classes, functions, the strings under constants), and
    of the lesson's modules it imports relatively: a wording stated there is stated."""
    paths = list(_python_files(source).values())
    texts = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Expr)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                texts.append(node.value.value)
            elif isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                sibling = path.parent / f"{node.module.split('.')[0]}.py"
                if sibling.exists() and sibling not in paths:
                    paths.append(sibling)
    # one space for every run of whitespace: a wording may wrap over two docstring lines
    return " ".join(" ".join(texts).split())


def _demanded_wordings(test_file: Path) -> list[tuple[int, str, str]]:
    """(line, pattern, the test's own text) for each `pytest.raises(..., match="...")`.

    The test's own text is its function's source (decorators included) and the module's code
    outside the test functions (helpers, fixtures), less the pattern: a wording the test
    supplies itself (an error it injects, a key it passes in) is not one the stub must state.
    A pattern that is not a literal string (an expression) is not checked.
    """
    source = test_file.read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    module = ast.parse(source)
    classes = [n for n in module.body if isinstance(n, ast.ClassDef)]
    tests = [
        node
        for node in [*module.body, *(item for c in classes for item in c.body)]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    ]
    spans = {
        id(t): (min([t.lineno] + [d.lineno for d in t.decorator_list]), t.end_lineno or t.lineno)
        for t in tests
    }
    in_tests = {n for first, last in spans.values() for n in range(first, last + 1)}
    shared = "".join(line for n, line in enumerate(lines, start=1) if n not in in_tests)
    found = []
    for test in tests:
        first, last = spans[id(test)]
        own = "".join(lines[first - 1 : last]) + shared
        for node in ast.walk(test):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "raises"
            ):
                continue
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg == "match" and isinstance(value, ast.Constant):
                    segment = ast.get_source_segment(source, value) or ""
                    found.append((value.lineno, value.value, own.replace(segment, "", 1)))
    return found


def _modules_loaded_by(test_file: Path) -> set[str]:
    """The lesson modules a test file loads (`load(__file__, "registry")`): a wording that one
    of them states is stated for the tests that use it."""
    return {
        node.args[1].value
        for node in ast.walk(ast.parse(test_file.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "load"
        and len(node.args) == 2
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
    }


def _template(text: str) -> str:
    """Numbers and placeholders (<n>, {count}) read alike: "among 0" is stated by "among 3"."""
    return re.sub(r"\d+|<[^<>\s]+>|\{[^{}\s]+\}", "#", text)


def _literal(pattern: str) -> str:
    """The plain text of a simple pattern: anchors dropped, escapes undone."""
    return re.sub(r"\\(.)", r"\1", pattern.strip("^$"))


@pytest.mark.parametrize("exercise", _exercise_params())
def test_every_wording_a_test_demands_is_in_the_stub(exercise: Exercise) -> None:
    """`pytest.raises(..., match="...")` demands a wording: the stub's docstrings must state it."""
    if not exercise.test_file.exists():
        pytest.skip(f"{exercise.id} has no tests yet")
    docstrings = _docstrings(exercise.source("exercises"))
    for module in _modules_loaded_by(exercise.test_file) - {exercise.module}:
        stub = EXERCISES_DIR / exercise.lesson_folder / module
        for candidate in (stub, stub.with_suffix(".py")):
            if candidate.exists():
                docstrings += "\n" + _docstrings(candidate)
    missing = [
        f"line {line}: match={pattern!r}"
        for line, pattern, own_text in _demanded_wordings(exercise.test_file)
        if pattern not in LIBRARY_WORDINGS
        and not re.search(pattern.strip("^$"), docstrings)
        and _template(_literal(pattern)) not in _template(docstrings)
        and _literal(pattern) not in own_text
    ]
    assert not missing, (
        f"{exercise.id}: tests/{exercise.lesson_folder}/{exercise.test_file.name} demands "
        f"wordings that no docstring of the stub states: {missing}"
    )


def test_the_shipped_stubs_manifests_are_current() -> None:
    """journey/shipped/NN_topic.json is how `journey reset` and "not started" know a stub."""
    from journey.stubs import stale_lessons

    stale = stale_lessons()
    assert not stale, (
        f"the shipped-stub manifest of {stale} does not match exercises/: after changing a stub, "
        "run `uv run python -m journey.stubs` and commit journey/shipped/"
    )
