"""LEARNING_LOG.md: the learner's journal.

The file is the learner's own text. ``journey`` touches it in exactly two ways: it rewrites the
block between the progress markers, and it appends dated entries at the end. Every write
replaces the file atomically, so an error never loses a word of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from journey.catalog import ROOT
from journey.files import atomic_write_text

LOG_PATH = ROOT / "LEARNING_LOG.md"
START_MARKER = "<!-- journey:progress:start -->"
END_MARKER = "<!-- journey:progress:end -->"


class JournalError(Exception):
    """LEARNING_LOG.md cannot be updated; the message says what to do."""


@dataclass(frozen=True)
class ProgressRow:
    lesson: str
    title: str
    done: int
    total: int
    last_checked: str
    started: bool = False  # at least one test of the lesson has passed

    @property
    def status(self) -> str:
        if self.total == 0:
            return "coming soon"
        if self.done == self.total:
            return "done"
        return "in progress" if self.started or self.done else "not started"


def render_table(rows: list[ProgressRow], coming: str = "") -> str:
    """The progress table; ``coming`` names the lessons still being written ("06–12")."""
    lines = [
        "| Lesson | Topic | Exercises done | Status | Last checked |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        count = f"{row.done} of {row.total}" if row.total else "-"
        lines.append(
            f"| {row.lesson} | {row.title} | {count} | {row.status} | {row.last_checked or '-'} |"
        )
    if coming:
        lines.append(f"| {coming} | still being written | - | coming soon | - |")
    return "\n".join(lines)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise JournalError(
            f"{path.name} is missing. Restore it with `git checkout -- {path.name}`."
        ) from None


def _write(path: Path, text: str) -> None:
    try:
        atomic_write_text(path, text)
    except PermissionError:
        raise JournalError(
            f"{path.name} is read-only, so it was left as it was. "
            f"Make it writable (chmod u+w {path.name}) and run the command again."
        ) from None
    except OSError as error:
        raise JournalError(
            f"Could not write {path.name} ({error.strerror}); it was left as it was."
        ) from error


def replace_progress(table: str, path: Path | None = None) -> bool:
    """Puts ``table`` between the progress markers; True if the file changed."""
    path = path or LOG_PATH
    text = _read(path)
    start, end = text.find(START_MARKER), text.find(END_MARKER)
    if start == -1 or end == -1 or end < start or text.count(START_MARKER) != 1:
        raise JournalError(
            f"{path.name} has no progress block, so the table was not updated. Put these two "
            f"lines (each once, start before end) where the table should go:\n"
            f"{START_MARKER}\n{END_MARKER}"
        )
    block_start = start + len(START_MARKER)
    updated = f"{text[:block_start]}\n{table}\n{text[end:]}"
    if updated == text:
        return False
    _write(path, updated)
    return True


def append_entry(
    entry: str, lesson: str | None, path: Path | None = None, today: date | None = None
) -> str:
    """Appends a dated entry at the end of the journal and returns the heading it got."""
    path = path or LOG_PATH
    body = entry.strip()
    if not body:
        raise JournalError('An entry needs some text: journey log "what I learned today".')
    text = _read(path)
    day = (today or date.today()).isoformat()
    heading = f"### {day}" + (f" — lesson {lesson}" if lesson else "")
    separator = "" if text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
    _write(path, f"{text}{separator}{heading}\n\n{body}\n")
    return heading
