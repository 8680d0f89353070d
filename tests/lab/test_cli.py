"""The `journey` commands that need no test run, driven in-process with Typer's runner."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from journey.catalog import lessons
from journey.cli import EXIT_FILE, EXIT_USAGE, app

runner = CliRunner()
FIRST = lessons()[0].exercises[0]


def test_dashboard_lists_every_lesson_and_the_next_step(lab_state: Path) -> None:
    result = runner.invoke(app, [], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for number in [f"{n:02d}" for n in range(1, 13)]:
        assert f"│ {number} " in result.output, f"lesson {number} is missing from the dashboard"
    first = lessons()[0]
    assert f"0/{len(first.exercises)}" in result.output
    assert "Next:" in result.output
    assert f"journey check {first.number}" in result.output


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


def test_diff_shows_the_reference_solution(lab_state: Path) -> None:
    result = runner.invoke(app, ["diff", FIRST.id], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "solutions/" in result.output
    assert "NotImplementedError" in result.output
