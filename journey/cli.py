"""``journey``: the learner's command line — where am I, check my work, give me a hint.

This module renders and dispatches; the work is done elsewhere: progress and recording in
``journey.progress``, checks in ``journey.check`` (and ``journey.watch``), stubs and reset in
``journey.stubs``, the diff in ``journey.diffs``, the journal in ``journey.journal``.

Exit codes, for scripts:
    0  all good (a check: every exercise checked is done)
    1  the command ran, but something is not done or not healthy (failing exercises, a service down)
    2  bad input (an unknown lesson or exercise, an empty log entry); the message lists valid input
    3  a file could not be written (LEARNING_LOG.md read-only or without its progress block)
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from journey import catalog, journal, location, progress, state
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
    return path.relative_to(ROOT).as_posix()


# -- status -------------------------------------------------------------------------------------

STATUS_COLORS = {"done": "green", "in progress": "yellow", "not started": "white"}


def dashboard() -> Table:
    """Every written lesson with its progress; fits 80 columns (long cells wrap, never cut)."""
    table = Table(title="Python Learning Journey", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("#", no_wrap=True)
    table.add_column("Lesson", overflow="fold", ratio=1)
    table.add_column("Done", no_wrap=True, justify="right")
    table.add_column("Status", no_wrap=True)
    table.add_column("Last checked", overflow="fold")
    for row in progress.progress_rows():
        color = STATUS_COLORS.get(row.status, "dim")
        count = f"{row.done}/{row.total}" if row.total else "-"
        table.add_row(
            row.lesson,
            escape(row.title),
            count,
            f"[{color}]{row.status}[/]",
            row.last_checked or "-",
        )
    if coming := progress.coming_lessons():
        ranges = progress.number_ranges(coming)
        table.add_row("", f"[dim]{ranges}: still being written[/]", "", "[dim]soon[/]", "")
    table.add_row("★", "Capstone: a mini distributed shop", "", "[dim]at the end[/]", "")
    return table


def next_step_text() -> str:
    step = progress.next_step()
    exercise, lesson = step.exercise, step.lesson
    if exercise is None or lesson is None:
        return (
            "Every written exercise is done: read capstone/README.md, then start the shop with "
            "[bold]uv run journey capstone up[/]"
        )
    source = _relative(exercise.source("exercises"))
    if step.first_of_lesson:
        return (
            f"Read {_relative(lesson.readme)}, then edit {source} and run "
            f"[bold]uv run journey check {exercise.id}[/]"
        )
    return (
        f"Exercise {exercise.id} ({escape(exercise.title)}): edit {source}, then run "
        f"[bold]uv run journey check {exercise.id}[/] — stuck? "
        f"[bold]uv run journey hint {exercise.id}[/]"
    )


@app.command()
def status() -> None:
    """Show every lesson, your progress in each, and what to do next."""
    console.print(dashboard())
    console.print(f"[bold]Next:[/] {next_step_text()}")
    if note := location.outside_note():
        console.print(f"[dim]{escape(note)}[/]")


@app.callback(invoke_without_command=True)
def main_callback(context: typer.Context) -> None:
    """With no command, show the dashboard."""
    if context.invoked_subcommand is None:
        status()


# -- check ----------------------------------------------------------------------------------------

SYMBOLS = {
    "done": "[green]✓[/]",
    "in progress": "[yellow]✗[/]",
    "not started": "[dim]·[/]",
    "cannot be imported": "[red]![/]",
    "skipped": "[blue]~[/]",
    "no tests": "[red]?[/]",
}


class CheckingLine:
    """The "checking …" line while tests run: on a terminal it counts the tests as they end
    and is erased before the results; elsewhere it is printed once."""

    def __init__(self, what: str, enabled: bool = True) -> None:
        self.what = what
        self.enabled = enabled
        self.tests = 0
        self.live = console.is_terminal
        if enabled:
            self._show()
            if not self.live:
                console.print(f"checking {what} …")

    def _show(self) -> None:
        if self.live:
            count = f" {self.tests} tests" if self.tests else ""
            console.file.write(f"\r\x1b[2Kchecking {self.what} …{count}")
            console.file.flush()

    def event(self, event: dict[str, Any]) -> None:
        if self.enabled and event.get("event") == "reports":
            self.tests += len({report["nodeid"] for report in event["reports"]})
            self._show()

    def close(self) -> None:
        if self.enabled and self.live:
            console.file.write("\r\x1b[2K")
            console.file.flush()


def _print_reports(lesson: Lesson, reports: Sequence[ExerciseReport], only: bool) -> None:
    done = progress.lesson_done(lesson)
    console.print(
        f"[bold]Lesson {lesson.number} — {escape(lesson.title)}[/]: "
        f"{done} of {len(lesson.exercises)} done"
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
        elif report.setup_problem:
            console.print(f"     [dim]{escape(report.setup_problem)}[/]")
        if report.skipped and report.exercise.id in state.load_progress():
            console.print("     [dim](its progress stays as your last check found it)[/]")
    pending = [r for r in reports if not r.done]
    if pending:
        exercise = pending[0].exercise
        console.print(
            f"[bold]Next:[/] {exercise.id} {escape(exercise.title)} — edit "
            f"{_relative(exercise.source('exercises'))}; stuck? "
            f"[bold]uv run journey hint {exercise.id}[/]"
        )
    elif only:
        console.print(f"[bold green]{reports[0].exercise.id} is done.[/]")
    elif done == len(lesson.exercises):
        console.print(
            f"[bold green]Lesson {lesson.number} complete.[/] Compare with the reference: "
            f"[bold]uv run journey diff {lesson.number}.1[/]; journal it: "
            f'[bold]uv run journey log "..." --lesson {lesson.number}[/]'
        )


def _record(reports: Sequence[ExerciseReport]) -> None:
    try:
        progress.record(reports)
    except journal.JournalError as error:
        fail(f"{error}", EXIT_FILE)


def _target(key: str) -> tuple[Lesson, Exercise | None]:
    if "." in key:
        exercise = _exercise(key)
        return catalog.find_lesson(exercise.lesson_folder), exercise
    lesson = _lesson(key)
    if not lesson.exercises:
        fail(f"Lesson {lesson.number} has no exercises yet.")
    return lesson, None


def check_once(lesson: Lesson, only: Exercise | None, verbose: bool) -> int:
    from journey.check import run_exercises

    exercises = [only] if only else list(lesson.exercises)
    line = CheckingLine(only.id if only else f"lesson {lesson.number}", enabled=not verbose)
    try:
        reports = run_exercises(exercises, verbose=verbose, listener=line.event)
    finally:
        line.close()
    _record(reports)
    _print_reports(lesson, reports, only is not None)
    return EXIT_OK if all(r.done for r in reports) else EXIT_NOT_DONE


@app.command()
def check(
    target: Annotated[str, typer.Argument(help="a lesson (01) or one exercise (01.2)")],
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="re-run the exercise you save, on every save")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="pytest's full output")] = False,
) -> None:
    """Run a lesson's (or one exercise's) tests, sum them up per exercise, record your progress."""
    lesson, only = _target(target)
    from journey.provision import provide_for_command  # the lab's own servers if none answers

    exercises = [only] if only else lesson.exercises
    needs = {
        *(lesson.services if only is None else ()),
        *(n for e in exercises for n in e.services),
    }
    provide_for_command(sorted(needs), say=lambda line: console.print(line, markup=False))
    if not watch:
        raise typer.Exit(check_once(lesson, only, verbose))
    _watch(lesson, only, verbose)


def _watch(lesson: Lesson, only: Exercise | None, verbose: bool) -> None:
    from journey import watch

    folders = ", ".join(_relative(f) for f in watch.watched_folders(lesson))
    saves = watch.changes(lesson)  # one watcher for the session: saves during a run count too
    exercises = [only] if only else list(lesson.exercises)
    with watch.WarmChecks(lesson) as checks:
        try:
            while True:
                line = CheckingLine(", ".join(e.id for e in exercises), enabled=not verbose)
                try:
                    reports = checks.run(exercises, listener=line.event, verbose=verbose)
                finally:
                    line.close()
                _record(reports)
                _print_reports(lesson, reports, only is not None)
                console.print(
                    f"[dim]Watching {folders} — save a file to re-check; Ctrl-C stops.[/]"
                )
                console.file.flush()  # a pipe (an editor's terminal pane) sees it now
                for changed in saves:
                    exercises = watch.affected(lesson, changed, only)
                    if exercises:
                        names = ", ".join(sorted(p.name for p in changed))
                        console.rule(f"[dim]saved {escape(names)}[/]", align="left")
                        console.file.flush()
                        break
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
        return {
            p.relative_to(source.parent).as_posix(): p
            for p in sorted(source.rglob("*.py"))
            if "__pycache__" not in p.parts
        }
    return {source.name: source} if source.exists() else {}


@app.command()
def diff(exercise: Annotated[str, typer.Argument(help="exercise id, e.g. 01.2")]) -> None:
    """Show your code beside the reference solution (docstrings left out), as a unified diff."""
    from journey.diffs import unified

    found = _exercise(exercise)
    mine, reference = _files_of(found, "exercises"), _files_of(found, "solutions")
    changed = False
    for name in sorted(set(mine) | set(reference)):
        left = mine[name].read_text(encoding="utf-8") if name in mine else ""
        right = reference[name].read_text(encoding="utf-8") if name in reference else ""
        lines = list(
            unified(
                left,
                right,
                f"exercises/{found.lesson_folder}/{name} (yours)",
                f"solutions/{found.lesson_folder}/{name} (reference)",
            )
        )
        if lines:
            changed = True
            console.print(Syntax("\n".join(lines), "diff", theme="ansi_dark", word_wrap=True))
    if changed:
        console.print(
            "[dim]Docstrings are left out: the stub's state the task, the solution's explain it.[/]"
        )
    else:
        console.print(f"{found.id}: your code is the same as the reference solution.")


@app.command()
def reset(exercise: Annotated[str, typer.Argument(help="exercise id, e.g. 01.2")]) -> None:
    """Restore an exercise's stub as shipped, keeping a backup of your version."""
    from journey.stubs import ResetError
    from journey.stubs import reset as reset_stub

    found = _exercise(exercise)
    try:
        done = reset_stub(found)
    except ResetError as error:
        fail(str(error), EXIT_FILE)
    if done.backup is None:
        console.print(f"{found.id} was already the stub as shipped; nothing changed.")
    else:
        console.print(
            f"{found.id} is the stub as shipped again. Your version is in {_relative(done.backup)}/"
        )
    for name in done.kept:
        console.print(f"[dim]Kept your own file exercises/{found.lesson_folder}/{name}.[/]")


# -- log ------------------------------------------------------------------------------------------


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


# -- doctor ---------------------------------------------------------------------------------------


@app.command()
def doctor() -> None:
    """Check Python, uv, the installed packages, the lessons, the journal and the services."""
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

    app.add_typer(
        capstone_app,
        name="capstone",
        help="Run the capstone: up, demo, admin, bench, chaos, reset.",
    )


_mount_capstone()


def _mount_services() -> None:
    from journey.services_cli import app as services_app

    app.add_typer(services_app, name="services", help="The lab's embedded PostgreSQL and Redis.")


_mount_services()


def main() -> None:
    if problem := location.lab_problem():
        errors.print(f"[bold red]error:[/] {escape(problem)}")
        sys.exit(EXIT_USAGE)
    app()
