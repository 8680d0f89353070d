"""Where the learner stands: each lesson's progress, what to do next, and recording a check.

Progress comes from the checks the learner ran (``.journey/progress.json``) and from their files:
an exercise is "not started" while its file is the stub as shipped (``journey.stubs``), "in
progress" once it differs, "done" when its tests pass. A check whose exercise was skipped (its
backing service was down) keeps what the last real check found: a skip never lowers progress.
The dashboard, a check's header and LEARNING_LOG.md's table all read the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from journey import catalog, journal, state, stubs
from journey.catalog import Exercise, Lesson

if TYPE_CHECKING:
    from journey.check import ExerciseReport


def lesson_row(lesson: Lesson, progress: dict[str, state.ExerciseProgress]) -> journal.ProgressRow:
    checked = [progress[e.id] for e in lesson.exercises if e.id in progress]
    started = any(p.passed or p.tests_passed for p in checked) or any(
        stubs.is_untouched(e) is False for e in lesson.exercises
    )
    return journal.ProgressRow(
        lesson=lesson.number,
        title=lesson.title,
        done=sum(p.passed for p in checked),
        total=len(lesson.exercises),
        last_checked=max((p.checked_at for p in checked), default=""),
        started=started,
    )


def progress_rows() -> list[journal.ProgressRow]:
    """One row per written lesson, from the recorded checks and the learner's files."""
    progress = state.load_progress()
    return [lesson_row(lesson, progress) for lesson in catalog.lessons()]


def coming_lessons() -> list[str]:
    """The numbers of the lessons the syllabus plans that are not written yet."""
    written = {lesson.number for lesson in catalog.lessons()}
    return [f"{n:02d}" for n in range(1, catalog.PLANNED_LESSONS + 1) if f"{n:02d}" not in written]


def number_ranges(numbers: list[str]) -> str:
    """["06", "07", "08", "10"] -> "06–08, 10"."""
    runs: list[list[int]] = []
    for value in sorted(int(n) for n in numbers):
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    return ", ".join(
        f"{run[0]:02d}" if len(run) == 1 else f"{run[0]:02d}–{run[-1]:02d}" for run in runs
    )


@dataclass(frozen=True)
class NextStep:
    exercise: Exercise | None  # None: every written exercise is done
    lesson: Lesson | None
    first_of_lesson: bool = False  # nothing of the lesson checked yet: read it first


def next_step() -> NextStep:
    """The first unfinished exercise, in syllabus order."""
    progress = state.load_progress()
    for lesson in catalog.lessons():
        for exercise in lesson.exercises:
            if exercise.id in progress and progress[exercise.id].passed:
                continue
            untouched_lesson = not any(e.id in progress for e in lesson.exercises) and all(
                stubs.is_untouched(e) is not False for e in lesson.exercises
            )
            return NextStep(exercise, lesson, untouched_lesson and exercise == lesson.exercises[0])
    return NextStep(None, None)


def record(reports: Iterable[ExerciseReport]) -> None:
    """Stores a check's results and rewrites LEARNING_LOG.md's table (JournalError if it
    cannot). A skipped exercise keeps what the last real check found."""
    stamp = state.now_stamp()
    state.record_progress(
        {
            r.exercise.id: state.ExerciseProgress(
                passed=r.done,
                tests_passed=r.passed,
                tests_total=r.total,
                checked_at=stamp,
            )
            for r in reports
            if not r.skipped
        }
    )
    journal.replace_progress(journal.render_table(progress_rows(), number_ranges(coming_lessons())))


def lesson_done(lesson: Lesson) -> int:
    """Exercises of the lesson done, as recorded: the number the table shows."""
    progress = state.load_progress()
    return sum(progress[e.id].passed for e in lesson.exercises if e.id in progress)
