"""``journey``: the learner's command line — where am I, check my work, give me a hint.

Exit codes, for scripts:
    0  all good (a check: every exercise of the lesson is done)
    1  the command ran, but something is not done or not healthy (failing exercises, a service down)
    2  bad input (an unknown lesson or exercise, an empty log entry); the message lists valid input
    3  a file could not be written (LEARNING_LOG.md read-only or without its progress block)
"""

from __future__ import annotations

import difflib
import importlib.util
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from journey import catalog, journal, state
from journey.catalog import ROOT, CatalogError, Exercise, Lesson

if TYPE_CHECKING:
    from journey.check import ExerciseReport

EXIT_OK, EXIT_NOT_DONE, EXIT_USAGE, EXIT_FILE = 0, 1, 2, 3

app = typer.Typer(
    help="Your Python Learning Journey: lessons, exercises, hints and progress.",
    no_args_is_help=False,
    add_completion=False,
    rich_markup_mode="rich",
)
console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    errors.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def _lesson(key: str) -> Lesson:
    try:
        return catalog.find_lesson(key)
    except CatalogError as error:
        fail(str(error))


def _exercise(key: str) -> Exercise:
    try:
        return catalog.find_exercise(key)
    except CatalogError as error:
        fail(str(error))


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


# -- status ---------------------------------------------------------------------------------


def progress_rows() -> list[journal.ProgressRow]:
    """One row per syllabus lesson, from the progress recorded by earlier checks."""
    written = {lesson.folder: lesson for lesson in catalog.lessons()}
    progress = state.load_progress()
    rows = []
    for folder, title in catalog.SYLLABUS:
        lesson = written.get(folder)
        exercises = lesson.exercises if lesson else ()
        checked = [progress[e.id] for e in exercises if e.id in progress]
        rows.append(
            journal.ProgressRow(
                lesson=folder[:2],
                title=lesson.title if lesson else title,
                done=sum(p.passed for p in checked),
                total=len(exercises),
                last_checked=max((p.checked_at for p in checked), default=""),
                started=any(p.tests_passed for p in checked),
            )
        )
    return rows


def next_step() -> str:
    """The first unfinished exercise, in syllabus order, and what to do about it."""
    progress = state.load_progress()
    for lesson in catalog.lessons():
        for exercise in lesson.exercises:
            if not (exercise.id in progress and progress[exercise.id].passed):
                if exercise.id not in progress and exercise == lesson.exercises[0]:
                    return (
                        f"Read {_relative(lesson.readme)}, then edit "
                        f"{_relative(exercise.source('exercises'))} and run "
                        f"[bold]uv run journey check {lesson.number}[/]"
                    )
                return (
                    f"Exercise {exercise.id} ({exercise.title}): edit "
                    f"{_relative(exercise.source('exercises'))}, then run "
                    f"[bold]uv run journey check {lesson.number}[/]"
                    f" — stuck? [bold]uv run journey hint {exercise.id}[/]"
                )
    return (
        "Every written exercise is done: start the capstone with "
        "[bold]uv run journey capstone up[/]"
    )


@app.command()
def status() -> None:
    """Show every lesson, your progress in each, and what to do next."""
    rows = progress_rows()
    table = Table(title="Python Learning Journey", title_justify="left")
    for column in ("Lesson", "Topic", "Exercises", "Status", "Last checked"):
        table.add_column(column)
    colors = {"done": "green", "in progress": "yellow", "not started": "white"}
    for row in rows:
        count = f"{row.done}/{row.total}" if row.total else "-"
        color = colors.get(row.status, "dim")
        table.add_row(
            row.lesson, row.title, count, f"[{color}]{row.status}[/]", row.last_checked or "-"
        )
    table.add_row("★", "Capstone: a mini distributed shop", "-", "see capstone/README.md", "-")
    console.print(table)
    console.print(f"[bold]Next:[/] {next_step()}")


@app.callback(invoke_without_command=True)
def main_callback(context: typer.Context) -> None:
    """With no command, show the dashboard."""
    if context.invoked_subcommand is None:
        status()


# -- check ------------------------------------------------------------------------------------

SYMBOLS = {
    "done": "[green]✓[/]",
    "in progress": "[yellow]✗[/]",
    "not started": "[dim]·[/]",
    "cannot be imported": "[red]![/]",
    "skipped": "[blue]~[/]",
    "no tests": "[red]?[/]",
}


def _print_check(lesson: Lesson, reports: list[ExerciseReport]) -> None:
    done = sum(r.done for r in reports)
    console.print(
        f"[bold]Lesson {lesson.number} — {lesson.title}[/]: {done} of {len(reports)} done"
    )
    for report in reports:
        outcome = report.outcome.value
        tests = f"{report.passed}/{report.total} tests" if report.total else ""
        console.print(
            f" {SYMBOLS[outcome]} {report.exercise.id} {escape(report.exercise.title)}"
            f"  [dim]{outcome}{', ' + tests if tests else ''}[/]"
        )
        if outcome in ("in progress", "cannot be imported", "skipped"):
            console.print(f"     [dim]{escape(report.first_problem)}[/]")
    pending = [r for r in reports if not r.done]
    if pending:
        exercise = pending[0].exercise
        console.print(
            f"[bold]Next:[/] {exercise.id} {escape(exercise.title)} — edit "
            f"{_relative(exercise.source('exercises'))}; stuck? "
            f"[bold]uv run journey hint {exercise.id}[/]"
        )
    else:
        console.print(
            f"[bold green]Lesson {lesson.number} complete.[/] Compare with the reference: "
            f"[bold]uv run journey diff {lesson.number}.1[/]; journal it: "
            f'[bold]uv run journey log "..." --lesson {lesson.number}[/]'
        )


def _record(reports: list[ExerciseReport]) -> None:
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
            if not r.skipped  # a skipped exercise keeps what the last real check found
        }
    )
    try:
        journal.replace_progress(journal.render_table(progress_rows()))
    except journal.JournalError as error:
        fail(f"{error}", EXIT_FILE)


def check_once(lesson: Lesson) -> int:
    from journey.check import run_lesson

    reports = run_lesson(lesson)
    _print_check(lesson, reports)
    _record(reports)
    return EXIT_OK if all(r.done for r in reports) else EXIT_NOT_DONE


@app.command()
def check(
    lesson: Annotated[str, typer.Argument(help="lesson number, e.g. 01")],
    watch: Annotated[bool, typer.Option("--watch", "-w", help="re-run on every save")] = False,
) -> None:
    """Run a lesson's exercise tests, sum them up per exercise, and record your progress."""
    found = _lesson(lesson)
    if not found.exercises:
        fail(f"Lesson {found.number} has no exercises yet.")
    from journey.provision import provide_for_command  # the lab's own servers if none answers

    needs = {*found.services, *(name for e in found.exercises for name in e.services)}
    provide_for_command(sorted(needs), say=lambda line: console.print(line, markup=False))
    if not watch:
        raise typer.Exit(check_once(found))
    _watch(found)


def _watch(lesson: Lesson) -> None:
    from watchfiles import watch as watch_changes

    folders = [
        catalog.EXERCISES_DIR / lesson.folder,
        lesson.tests_dir,
    ]
    command = [sys.executable, "-m", "journey", "check", lesson.number]
    subprocess.run(command, check=False)
    console.print(f"[dim]Watching {', '.join(_relative(f) for f in folders)} — Ctrl-C to stop.[/]")
    try:
        for _changes in watch_changes(*folders, watch_filter=lambda _, path: path.endswith(".py")):
            console.clear()
            # A fresh interpreter per run: the learner's edited modules must be imported anew.
            subprocess.run(command, check=False)
            console.print("[dim]Watching for changes — Ctrl-C to stop.[/]")
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_OK) from None


# -- hint, diff, reset ------------------------------------------------------------------------


@app.command()
def hint(exercise: Annotated[str, typer.Argument(help="exercise id, e.g. 01.2")]) -> None:
    """Show the next hint for an exercise (one more each time you ask)."""
    found = _exercise(exercise)
    shown = min(state.hints_seen(found.id) + 1, len(found.hints))
    console.print(f"[bold]{found.id} {escape(found.title)}[/]")
    for number, text in enumerate(found.hints[:shown], start=1):
        console.print(f"  Hint {number} of {len(found.hints)}: {escape(text)}")
    state.remember_hints_seen(found.id, shown)
    if shown < len(found.hints):
        console.print(f"[dim]Still stuck? Ask again for hint {shown + 1}.[/]")
    else:
        console.print(
            f"[dim]That was the last hint. Once your tests pass, compare: "
            f"uv run journey diff {found.id}[/]"
        )


def _files_of(exercise: Exercise, target: str) -> dict[str, Path]:
    source = exercise.source(target)
    if source.is_dir():
        return {str(p.relative_to(source)): p for p in sorted(source.rglob("*.py"))}
    return {source.name: source} if source.exists() else {}


@app.command()
def diff(exercise: Annotated[str, typer.Argument(help="exercise id, e.g. 01.2")]) -> None:
    """Show your file beside the reference solution, as a unified diff."""
    found = _exercise(exercise)
    mine, reference = _files_of(found, "exercises"), _files_of(found, "solutions")
    changed = False
    for name in sorted(set(mine) | set(reference)):
        left = (
            mine[name].read_text(encoding="utf-8").splitlines(keepends=True) if name in mine else []
        )
        right = (
            reference[name].read_text(encoding="utf-8").splitlines(keepends=True)
            if name in reference
            else []
        )
        lines = list(
            difflib.unified_diff(
                left, right, fromfile=f"exercises/{name} (yours)", tofile=f"solutions/{name}"
            )
        )
        if lines:
            changed = True
            console.print(Syntax("".join(lines), "diff", theme="ansi_dark", word_wrap=True))
    if not changed:
        console.print(f"{found.id}: your file is the same as the reference solution.")


def _stub_text(path: Path) -> str:
    """The stub as the lesson shipped it: from git (origin/main if there is one, else HEAD)."""
    relative = _relative(path)
    for ref in ("origin/main", "HEAD"):
        result = subprocess.run(
            ["git", "show", f"{ref}:{relative}"], cwd=ROOT, capture_output=True, text=True
        )
        if result.returncode == 0:
            return result.stdout
    fail(f"Could not find the original of {relative} in git; is this a git clone?", EXIT_FILE)


@app.command()
def reset(exercise: Annotated[str, typer.Argument(help="exercise id, e.g. 01.2")]) -> None:
    """Restore an exercise's stub, keeping a backup of your version in .journey/backups/."""
    from journey.files import atomic_write_text

    found = _exercise(exercise)
    files = _files_of(found, "exercises")
    originals = {name: _stub_text(path) for name, path in files.items()}
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = state.STATE_DIR / "backups" / f"{found.id}-{stamp}"
    backup.mkdir(parents=True, exist_ok=True)
    for name, path in files.items():
        (backup / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, backup / name)
    for name, path in files.items():
        atomic_write_text(path, originals[name])
    console.print(f"{found.id} is a fresh stub again. Your version is in {_relative(backup)}/")


# -- log --------------------------------------------------------------------------------------


@app.command()
def log(
    text: Annotated[str, typer.Argument(help="what you learned, in your own words")],
    lesson: Annotated[str | None, typer.Option("--lesson", "-l", help="lesson number")] = None,
) -> None:
    """Append a dated entry to LEARNING_LOG.md."""
    number = _lesson(lesson).number if lesson else None
    try:
        heading = journal.append_entry(text, number)
    except journal.JournalError as error:
        code = EXIT_USAGE if not text.strip() else EXIT_FILE
        fail(str(error), code)
    console.print(f"Added to LEARNING_LOG.md under “{heading.removeprefix('### ')}”.")


# -- doctor -----------------------------------------------------------------------------------


@app.command()
def doctor() -> None:
    """Check Python, the installed packages, the lessons, the journal and the backing services."""
    from journey.doctor import run_checks

    problems = 0
    grid = Table.grid(padding=(0, 2))
    for check_result in run_checks():
        mark = "[green]ok[/]" if check_result.ok else "[red]problem[/]"
        grid.add_row(mark, f"{escape(check_result.name)}:", escape(check_result.detail))
        problems += not check_result.ok
    console.print(grid)
    if problems:
        console.print(f"[bold red]{problems} problem(s).[/] Each line says what to do.")
        raise typer.Exit(EXIT_NOT_DONE)
    console.print("[bold green]All set.[/]")


def _mount_capstone() -> None:
    if importlib.util.find_spec("journey.capstone_cli") is None:
        return
    from journey.capstone_cli import app as capstone_app

    app.add_typer(capstone_app, name="capstone", help="Run the capstone: up, demo.")


_mount_capstone()


def _mount_services() -> None:
    from journey.services_cli import app as services_app

    app.add_typer(services_app, name="services", help="The lab's embedded PostgreSQL and Redis.")


_mount_services()


def main() -> None:
    app()
