"""``journey doctor``: is this machine ready for the lessons?"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from journey import catalog, journal, services

KEY_PACKAGES = (
    "pytest",
    "jupyterlab",
    "fastapi",
    "sqlalchemy",
    "psycopg",
    "redis",
    "grpcio",
    "aio-pika",
)


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def _python() -> CheckResult:
    version = ".".join(map(str, sys.version_info[:3]))
    ok = sys.version_info >= (3, 11)
    detail = (
        version if ok else f"{version}: the lessons need 3.11 or newer (uv python install 3.11)"
    )
    return CheckResult("Python", ok, detail)


def _script_folders() -> list[Path]:
    """Where pip puts command-line scripts: the user folder (pip install --user) and the
    interpreter's own."""
    folders = []
    for scheme in (f"{os.name}_user", None):
        try:
            path = (
                sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
            )
        except KeyError:
            continue
        if path:
            folders.append(Path(path))
    base = Path(sys.base_prefix) / ("Scripts" if os.name == "nt" else "bin")
    return [*folders, base]


def path_fix(folder: Path) -> str:
    """The line that puts ``folder`` on PATH, for the learner's shell."""
    if os.name == "nt":
        return f'setx PATH "%PATH%;{folder}" (then open a new terminal)'
    home = Path.home()
    shown = f"$HOME/{folder.relative_to(home)}" if folder.is_relative_to(home) else str(folder)
    return (
        f'export PATH="{shown}:$PATH" (add that line to ~/.bashrc or ~/.zshrc, then open a '
        "new terminal)"
    )


def uv_check(
    which: Callable[[str], str | None] = shutil.which,
    folders: list[Path] | None = None,
    environ: Mapping[str, str] = os.environ,
) -> CheckResult:
    """uv on PATH, or where it is installed and the line that puts it on PATH."""
    if path := which("uv"):
        return CheckResult("uv", True, path)
    name = "uv.exe" if os.name == "nt" else "uv"
    for folder in _script_folders() if folders is None else folders:
        if (folder / name).is_file():
            return CheckResult(
                "uv",
                False,
                f"installed in {folder}, which is not on your PATH: {path_fix(folder)}; "
                "or type `python -m uv` where the README says `uv`",
            )
    if running := environ.get("UV"):
        return CheckResult(
            "uv", False, f"this command runs under {running}, but `uv` is not on your PATH"
        )
    return CheckResult(
        "uv",
        False,
        "not found: `python -m pip install --user uv` (or `pipx install uv`); "
        "see README.md, Set up",
    )


def _packages() -> CheckResult:
    missing, found = [], []
    for name in KEY_PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            missing.append(name)
    if missing:
        return CheckResult("packages", False, f"missing {', '.join(missing)}: run `uv sync`")
    return CheckResult("packages", True, ", ".join(found))


def _lessons() -> CheckResult:
    try:
        lessons = catalog.lessons()
    except catalog.CatalogError as error:
        return CheckResult("lessons", False, str(error))
    count = sum(len(lesson.exercises) for lesson in lessons)
    return CheckResult("lessons", True, f"{len(lessons)} lessons, {count} exercises")


def _journal() -> CheckResult:
    path = journal.LOG_PATH
    if not path.exists():
        return CheckResult("LEARNING_LOG.md", False, "missing: `git checkout -- LEARNING_LOG.md`")
    if not os.access(path, os.W_OK):
        return CheckResult("LEARNING_LOG.md", False, "read-only: `chmod u+w LEARNING_LOG.md`")
    text = path.read_text(encoding="utf-8")
    if journal.START_MARKER not in text or journal.END_MARKER not in text:
        return CheckResult(
            "LEARNING_LOG.md",
            False,
            f"no progress block: add the lines {journal.START_MARKER} and {journal.END_MARKER}",
        )
    return CheckResult("LEARNING_LOG.md", True, "writable, progress block in place")


def _service(name: str) -> CheckResult:
    """Reachable or not, and whose: the lab's embedded server, compose's, an env URL's, yours."""
    from journey.provision import doctor_verdict

    return CheckResult(name, *doctor_verdict(name))


def run_checks() -> Iterator[CheckResult]:
    yield _python()
    yield uv_check()
    yield _packages()
    yield _lessons()
    yield _journal()
    for name in services.SERVICES:
        yield _service(name)
