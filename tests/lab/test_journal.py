"""LEARNING_LOG.md is the learner's own text: journey only rewrites its progress block and
appends entries, atomically, and refuses clearly when it cannot."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from journey import journal
from journey.files import atomic_write_text

MY_WORDS = """# My log

Some thoughts of mine, *with markdown* and a tab\t
and no newline at the end of the progress line:

<!-- journey:progress:start -->
old table
<!-- journey:progress:end -->
## Journal
Entry one, written by hand."""


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "LEARNING_LOG.md"
    path.write_text(MY_WORDS, encoding="utf-8")
    return path


def _row(done: int, total: int) -> journal.ProgressRow:
    return journal.ProgressRow("01", "Python fundamentals", done, total, "2026-01-02 10:00")


@pytest.mark.parametrize(
    ("done", "total", "started", "status"),
    [
        (0, 7, False, "not started"),
        (0, 7, True, "in progress"),
        (3, 7, True, "in progress"),
        (7, 7, True, "done"),
        (0, 0, False, "coming soon"),
    ],
)
def test_a_lessons_status_follows_its_progress(
    done: int, total: int, started: bool, status: str
) -> None:
    row = journal.ProgressRow("01", "Python fundamentals", done, total, "2026-01-02", started)
    assert row.status == status


def test_progress_block_is_replaced_and_nothing_else_changes(log_file: Path) -> None:
    table = journal.render_table([_row(3, 7)])
    assert journal.replace_progress(table, log_file)
    text = log_file.read_text(encoding="utf-8")
    before, after = MY_WORDS.split("old table")
    assert text.startswith(before.rstrip("\n"))
    assert text.endswith(after.lstrip("\n"))
    assert "| 01 | Python fundamentals | 3 of 7 | in progress | 2026-01-02 10:00 |" in text
    assert "old table" not in text


def test_rewriting_the_same_table_does_not_touch_the_file(log_file: Path) -> None:
    table = journal.render_table([_row(7, 7)])
    journal.replace_progress(table, log_file)
    assert not journal.replace_progress(table, log_file)


@pytest.mark.parametrize(
    "broken",
    [
        MY_WORDS.replace("<!-- journey:progress:start -->", ""),
        MY_WORDS.replace("<!-- journey:progress:end -->", ""),
        "<!-- journey:progress:end -->\n<!-- journey:progress:start -->\n",
    ],
    ids=["no-start", "no-end", "reversed"],
)
def test_missing_markers_are_refused_and_the_file_is_kept(tmp_path: Path, broken: str) -> None:
    path = tmp_path / "LEARNING_LOG.md"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(journal.JournalError, match="progress block"):
        journal.replace_progress("table", path)
    assert path.read_text(encoding="utf-8") == broken


def test_entries_are_appended_with_a_date_and_lesson(log_file: Path) -> None:
    heading = journal.append_entry(
        "  Closures capture variables, not values.  ", "01", log_file, date(2026, 3, 4)
    )
    assert heading == "### 2026-03-04 — lesson 01"
    text = log_file.read_text(encoding="utf-8")
    assert text.startswith(MY_WORDS)
    assert text.endswith(
        "\n\n### 2026-03-04 — lesson 01\n\nClosures capture variables, not values.\n"
    )


def test_an_empty_entry_is_refused(log_file: Path) -> None:
    with pytest.raises(journal.JournalError, match="needs some text"):
        journal.append_entry("   ", None, log_file)
    assert log_file.read_text(encoding="utf-8") == MY_WORDS


def test_a_read_only_log_is_left_alone(log_file: Path) -> None:
    log_file.chmod(0o444)
    with pytest.raises(journal.JournalError, match="read-only"):
        journal.append_entry("text", None, log_file)
    with pytest.raises(journal.JournalError, match="read-only"):
        journal.replace_progress("table", log_file)
    assert log_file.read_text(encoding="utf-8") == MY_WORDS
    assert [p.name for p in log_file.parent.iterdir()] == ["LEARNING_LOG.md"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(
    log_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("journey.files.os.replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        atomic_write_text(log_file, "new text")
    assert log_file.read_text(encoding="utf-8") == MY_WORDS
    assert [p.name for p in log_file.parent.iterdir()] == ["LEARNING_LOG.md"]


def test_atomic_write_keeps_permissions(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o640)
    atomic_write_text(path, "new")
    assert path.read_text(encoding="utf-8") == "new"
    assert path.stat().st_mode & 0o777 == 0o640
