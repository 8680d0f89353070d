"""``journey doctor``: is this machine ready for the lessons?"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata

from journey import catalog, journal, services

KEY_PACKAGES = ("pytest", "fastapi", "sqlalchemy", "psycopg", "redis", "grpcio", "aio-pika")


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


def _uv() -> CheckResult:
    path = shutil.which("uv")
    detail = path or "not on PATH: install it with `pip install uv` (https://docs.astral.sh/uv/)"
    return CheckResult("uv", path is not None, detail)


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
    yield _uv()
    yield _packages()
    yield _lessons()
    yield _journal()
    for name in services.SERVICES:
        yield _service(name)
