"""`journey check` and `journey reset` end to end, on a private copy of the lab.

Each test copies the lab to a temporary folder and runs `python -m journey` there, so the
learner's real exercises and LEARNING_LOG.md are never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from journey.catalog import ROOT, Lesson, lessons
from journey.sandbox import copy_lab

LESSON = next(lesson for lesson in lessons() if not lesson.services)


def _journey(lab: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "journey", *args],
        cwd=lab,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "300", "HOME": str(lab), **env},
    )


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    return copy_lab(tmp_path / "lab")


def _finish_lesson(lab: Path, lesson: Lesson) -> None:
    shutil.rmtree(lab / "exercises" / lesson.folder)
    shutil.copytree(lab / "solutions" / lesson.folder, lab / "exercises" / lesson.folder)


def test_check_reports_progress_and_keeps_the_journal(lab: Path) -> None:
    total = len(LESSON.exercises)
    log = lab / "LEARNING_LOG.md"
    before = log.read_text(encoding="utf-8")

    stubs = _journey(lab, "check", LESSON.number)
    assert stubs.returncode == 1, stubs.stdout + stubs.stderr
    assert f"0 of {total} done" in stubs.stdout
    assert f"journey hint {LESSON.exercises[0].id}" in stubs.stdout

    _finish_lesson(lab, LESSON)
    done = _journey(lab, "check", LESSON.number)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{total} of {total} done" in done.stdout

    after = log.read_text(encoding="utf-8")
    assert re.search(rf"\| {LESSON.number} \| .* \| {total} of {total} \| done \|", after)
    outside = re.compile(r"<!-- journey:progress:start -->.*<!-- journey:progress:end -->", re.S)
    assert outside.sub("", after) == outside.sub("", before), "only the progress block may change"


def test_check_without_progress_markers_fails_and_leaves_the_file(lab: Path) -> None:
    log = lab / "LEARNING_LOG.md"
    mine = "# My log\n\nNo markers here, only my words.\n"
    log.write_text(mine, encoding="utf-8")
    result = _journey(lab, "check", LESSON.number)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "progress block" in result.stderr
    assert "<!-- journey:progress:start -->" in result.stderr
    assert log.read_text(encoding="utf-8") == mine


def test_check_of_an_unknown_lesson_lists_the_lessons(lab: Path) -> None:
    result = _journey(lab, "check", "99")
    assert result.returncode == 2
    assert "There is no lesson '99'" in result.stderr


def test_a_syntax_error_is_reported_as_such(lab: Path) -> None:
    first = LESSON.exercises[0]
    broken = lab / first.source("exercises").relative_to(ROOT)
    broken.write_text("def oops(:\n", encoding="utf-8")
    result = _journey(lab, "check", LESSON.number)
    assert result.returncode == 1
    assert "cannot be imported" in result.stdout
    assert "SyntaxError" in result.stdout


def test_reset_restores_the_stub_and_keeps_a_backup(lab: Path) -> None:
    exercise = LESSON.exercises[0]
    for command in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "lab"],
    ):
        subprocess.run(["git", *command], cwd=lab, check=True)
    stub = lab / exercise.source("exercises").relative_to(ROOT)
    original = stub.read_text(encoding="utf-8")
    stub.write_text("# my attempt\n", encoding="utf-8")

    result = _journey(lab, "reset", exercise.id)
    assert result.returncode == 0, result.stdout + result.stderr
    assert stub.read_text(encoding="utf-8") == original
    backups = list((lab / ".journey" / "backups").rglob(stub.name))
    assert [b.read_text(encoding="utf-8") for b in backups] == ["# my attempt\n"]


def test_verify_stubs_flags_a_test_that_passes_on_a_stub(lab: Path) -> None:
    """The honesty check itself: a "stub" that is really finished must be caught."""
    exercise = LESSON.exercises[0]
    finished = lab / exercise.source("solutions").relative_to(ROOT)
    stub = lab / exercise.source("exercises").relative_to(ROOT)
    shutil.copy2(finished, stub)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--verify-stubs", f"tests/{LESSON.folder}", "-q"],
        cwd=lab,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout[-2000:]
    assert f"passes against the untouched stub of exercise {exercise.id}" in result.stdout


@pytest.mark.postgres
def test_a_missing_service_skips_only_its_exercises(lab: Path) -> None:
    """Redis down: its exercises are skipped with the start command; the others still run."""
    lesson = next(lesson for lesson in lessons() if {"postgres", "redis"} <= set(lesson.services))
    redis_only = [e for e in lesson.exercises if "redis" in e.services]
    postgres_only = [e for e in lesson.exercises if e.services == ("postgres",)]
    closed = {"JOURNEY_REDIS_URL": "redis://127.0.0.1:1/0"}
    if postgres_url := os.environ.get("JOURNEY_POSTGRES_URL"):
        closed["JOURNEY_POSTGRES_URL"] = postgres_url

    result = _journey(lab, "check", lesson.number, **closed)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for exercise in redis_only:
        line = next(line for line in lines if f" {exercise.id} " in line)
        assert "skipped" in line, f"{exercise.id} needs Redis: {line}"
    assert "docker compose up -d redis" in result.stdout
    for exercise in postgres_only:
        line = next(line for line in lines if f" {exercise.id} " in line)
        assert "skipped" not in line, f"{exercise.id} needs only PostgreSQL: {line}"
        assert "tests" in line, f"{exercise.id}'s tests still ran: {line}"

    required = _journey(lab, "check", lesson.number, JOURNEY_REQUIRE_SERVICES="1", **closed)
    assert required.returncode == 1
    assert "skipped" not in required.stdout
    assert "JOURNEY_REQUIRE_SERVICES=1 forbids skipping it" in required.stdout
