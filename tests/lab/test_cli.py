"""The `journey` commands that need no test run, driven in-process with Typer's runner."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from journey import catalog, location
from journey.catalog import lessons
from journey.cli import EXIT_FILE, EXIT_USAGE, app, dashboard
from journey.diffs import unified

runner = CliRunner()
FIRST = lessons()[0].exercises[0]


def test_dashboard_lists_every_written_lesson_and_the_next_step(lab_state: Path) -> None:
    result = runner.invoke(app, [], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for lesson in lessons():
        assert f" {lesson.number} " in result.output, f"lesson {lesson.number} is missing"
        assert lesson.title in result.output, "titles come from lesson.toml"
    if len(lessons()) < catalog.PLANNED_LESSONS:
        assert "still being written" in result.output
    assert "Capstone" in result.output
    first = lessons()[0]
    assert f"0/{len(first.exercises)}" in result.output
    assert "Next:" in result.output
    assert f"journey check {first.exercises[0].id}" in result.output


def test_the_dashboard_fits_80_columns(lab_state: Path) -> None:
    narrow = Console(width=80, record=True, color_system=None)
    narrow.print(dashboard())
    lines = narrow.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80
    text = " ".join(lines)
    assert "…" not in text, "no cell is cut short"
    for word in ("Capstone:", "mini", "distributed", "shop"):
        assert word in text.split(), f"the capstone's row is whole: {word}"
    words = " ".join(text.split())
    for lesson in lessons():
        assert " ".join(lesson.title.split()[-1:]) in words, f"{lesson.title} is shown whole"


def test_unknown_lesson_lists_the_valid_ones(lab_state: Path) -> None:
    result = runner.invoke(app, ["check", "99"])
    assert result.exit_code == EXIT_USAGE
    assert "no lesson '99'" in result.output
    assert lessons()[0].number in result.output


def test_unknown_exercise_lists_the_lessons_exercises(lab_state: Path) -> None:
    result = runner.invoke(app, ["hint", f"{FIRST.id[:2]}.99"])
    assert result.exit_code == EXIT_USAGE
    assert f"has no exercise {FIRST.id[:2]}.99" in result.output
    assert FIRST.id in result.output


def test_a_malformed_exercise_id_says_what_form_to_use(lab_state: Path) -> None:
    result = runner.invoke(app, ["hint", "banana"])
    assert result.exit_code == EXIT_USAGE
    assert "NN.K" in result.output


def test_hints_come_one_more_at_a_time_and_are_remembered(lab_state: Path) -> None:
    first = runner.invoke(app, ["hint", FIRST.id], env={"COLUMNS": "500"})
    assert first.exit_code == 0
    assert "Hint 1 of" in first.output
    assert "Hint 2 of" not in first.output
    second = runner.invoke(app, ["hint", FIRST.id], env={"COLUMNS": "500"})
    assert "Hint 1 of" in second.output
    assert "Hint 2 of" in second.output
    for _ in range(5):
        last = runner.invoke(app, ["hint", FIRST.id], env={"COLUMNS": "500"})
    assert f"Hint {len(FIRST.hints)} of {len(FIRST.hints)}" in last.output
    assert "last hint" in last.output


def test_log_appends_an_entry_and_keeps_every_word(lab_state: Path) -> None:
    before = lab_state.read_text(encoding="utf-8")
    result = runner.invoke(app, ["log", "Decorators wrap functions.", "--lesson", "1"])
    assert result.exit_code == 0, result.output
    after = lab_state.read_text(encoding="utf-8")
    assert after.startswith(before)
    assert after.rstrip().endswith("Decorators wrap functions.")
    assert "— lesson 01" in after


def test_an_empty_log_entry_is_refused(lab_state: Path) -> None:
    before = lab_state.read_text(encoding="utf-8")
    result = runner.invoke(app, ["log", ""])
    assert result.exit_code == EXIT_USAGE
    assert "needs some text" in result.output
    assert lab_state.read_text(encoding="utf-8") == before


def test_a_read_only_log_is_refused_with_what_to_do(lab_state: Path) -> None:
    before = lab_state.read_text(encoding="utf-8")
    lab_state.chmod(0o444)
    result = runner.invoke(app, ["log", "something"])
    assert result.exit_code == EXIT_FILE
    assert "read-only" in result.output
    assert "chmod" in result.output
    assert lab_state.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in lab_state.parent.iterdir()) == ["LEARNING_LOG.md"]


def test_diff_shows_the_reference_without_the_stubs_docstrings(lab_state: Path) -> None:
    result = runner.invoke(app, ["diff", FIRST.id], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    stub = FIRST.source("exercises")
    name = f"{FIRST.lesson_folder}/{stub.name}"
    assert f"exercises/{name} (yours)" in result.output, "the lesson folder is in the header"
    assert f"solutions/{name} (reference)" in result.output
    assert "NotImplementedError" in result.output, "the learner's code is compared"
    from journey.diffs import docstring_lines

    text = stub.read_text(encoding="utf-8")
    docstrings = [
        line.strip()
        for number, line in enumerate(text.splitlines(), start=1)
        if number in docstring_lines(text) and len(line.strip()) > 20
    ]
    assert docstrings, "the stub has docstrings to leave out"
    for line in docstrings:
        assert line not in result.output, f"a docstring line of the stub is noise: {line!r}"


def test_a_diff_keeps_the_files_line_numbers() -> None:
    mine = '"""Doc\n\nmore doc.\n"""\n\n\ndef f():\n    """Mine."""\n    return 1\n'
    reference = '"""Other doc."""\n\n\ndef f():\n    """Reference."""\n    return 2\n'
    lines = list(unified(mine, reference, "a (yours)", "b (reference)"))
    assert lines[:2] == ["--- a (yours)", "+++ b (reference)"]
    assert "-    return 1" in lines
    assert "+    return 2" in lines
    assert not [line for line in lines if "doc" in line.lower()], lines
    hunk = next(line for line in lines if line.startswith("@@"))
    assert hunk == "@@ -5,5 +2,5 @@", "lines 5-9 of the learner's file, 2-6 of the reference"
    assert list(unified(mine, mine.replace("Mine.", "Changed."), "a", "b")) == []


def test_outside_the_lab_journey_says_how_to_get_there(tmp_path: Path) -> None:
    problem = location.lab_problem(root=tmp_path, cwd=tmp_path)
    assert problem is not None
    assert "cd into the folder you cloned" in problem
    assert "uv run journey" in problem
    found = location.lab_problem(root=tmp_path, cwd=catalog.ROOT / "lessons")
    assert found is not None
    assert f"cd {catalog.ROOT}" in found, "run from inside a lab, it names that lab"
    assert location.lab_problem(root=catalog.ROOT) is None
    note = location.outside_note(cwd=tmp_path)
    assert note is not None
    assert str(catalog.ROOT) in note
    assert location.outside_note(cwd=catalog.ROOT / "exercises") is None
