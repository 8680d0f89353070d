"""`journey check`, `journey reset` and watch mode end to end, on a private copy of the lab.

Each test copies the lab to a temporary folder and runs `python -m journey` there, so the
learner's real exercises and LEARNING_LOG.md are never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from journey.catalog import ROOT, Exercise, Lesson, lessons
from journey.check import share_out
from journey.sandbox import copy_lab

LESSON = next(lesson for lesson in lessons() if not lesson.services)
# Found by module, not by id: ids move when a lesson gains an exercise.
MONEY = next(e for e in LESSON.exercises if e.module == "money")


def _journey(lab: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "journey", *args],
        cwd=lab,
        capture_output=True,
        text=True,
        timeout=180,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "300", "HOME": str(lab), **env},
    )


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    return copy_lab(tmp_path / "lab")


def _in(lab: Path, exercise: Exercise, target: str = "exercises") -> Path:
    return lab / exercise.source(target).relative_to(ROOT)


def _solve(lab: Path, exercise: Exercise) -> None:
    shutil.copy2(_in(lab, exercise, "solutions"), _in(lab, exercise))


def _finish_lesson(lab: Path, lesson: Lesson) -> None:
    shutil.rmtree(lab / "exercises" / lesson.folder)
    shutil.copytree(lab / "solutions" / lesson.folder, lab / "exercises" / lesson.folder)


def _is_line_of(line: str, exercise: Exercise) -> bool:
    """✓ 01.2 A frozen Money value object  done, 43/43 tests"""
    return re.match(rf"^ \S {re.escape(exercise.id)} ", line) is not None


def _line_of(output: str, exercise: Exercise) -> str:
    return next(line for line in output.splitlines() if _is_line_of(line, exercise))


def test_check_reports_progress_and_keeps_the_journal(lab: Path) -> None:
    total = len(LESSON.exercises)
    log = lab / "LEARNING_LOG.md"
    before = log.read_text(encoding="utf-8")

    stubs = _journey(lab, "check", LESSON.number)
    assert stubs.returncode == 1, stubs.stdout + stubs.stderr
    assert f"0 of {total} done" in stubs.stdout
    assert f"checking lesson {LESSON.number} …" in stubs.stdout, "a line shows while tests run"
    assert f"journey hint {LESSON.exercises[0].id}" in stubs.stdout
    for exercise in LESSON.exercises:
        assert "not started" in _line_of(stubs.stdout, exercise), "untouched stubs"

    _finish_lesson(lab, LESSON)
    done = _journey(lab, "check", LESSON.number)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{total} of {total} done" in done.stdout

    after = log.read_text(encoding="utf-8")
    assert re.search(rf"\| {LESSON.number} \| .* \| {total} of {total} \| done \|", after)
    outside = re.compile(r"<!-- journey:progress:start -->.*<!-- journey:progress:end -->", re.S)
    assert outside.sub("", after) == outside.sub("", before), "only the progress block may change"


def test_one_exercise_is_checked_alone(lab: Path) -> None:
    stub = _journey(lab, "check", MONEY.id)
    assert stub.returncode == 1, stub.stdout + stub.stderr
    assert "not started" in _line_of(stub.stdout, MONEY)
    others = [e for e in LESSON.exercises if e != MONEY]
    shown = [e for e in others if any(_is_line_of(line, e) for line in stub.stdout.splitlines())]
    assert not shown, "only that exercise is shown"

    _solve(lab, MONEY)
    solved = _journey(lab, "check", MONEY.id)
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert "done" in _line_of(solved.stdout, MONEY)
    assert f"1 of {len(LESSON.exercises)} done" in solved.stdout, "the lesson's header counts it"


def test_verbose_shows_pytests_own_output(lab: Path) -> None:
    _solve(lab, MONEY)
    result = _journey(lab, "check", MONEY.id, "-v")
    assert result.returncode == 0
    assert "PASSED" in result.stdout, "pytest's own report, test by test"
    assert "done" in _line_of(result.stdout, MONEY), "then the summary"


def test_an_edited_exercise_that_fails_is_in_progress(lab: Path) -> None:
    stub = _in(lab, MONEY)
    stub.write_text(stub.read_text(encoding="utf-8") + "\n# my first idea\n", encoding="utf-8")
    result = _journey(lab, "check", MONEY.id)
    assert "in progress" in _line_of(result.stdout, MONEY)


HANGING = """

import subprocess as _subprocess
import threading as _threading
from pathlib import Path as _Path


def _spin() -> None:
    while True:
        pass


def _hang(*args, **kwargs):
    # a helper process, a thread that never ends, and a main thread waiting on it forever
    sleeper = _subprocess.Popen(["sleep", "600"])
    _Path("{pid_file}").write_text(str(sleeper.pid))
    worker = _threading.Thread(target=_spin)
    worker.start()
    worker.join()


Money.__post_init__ = _hang
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead: it only waits for its parent to read its exit status
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="looks for processes in /proc")
def test_an_endless_loop_times_out_and_leaves_nothing_behind(lab: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "sleeper.pid"
    stub = _in(lab, MONEY)
    stub.write_text(
        stub.read_text(encoding="utf-8") + HANGING.format(pid_file=pid_file), encoding="utf-8"
    )
    started = time.monotonic()
    result = _journey(lab, "check", LESSON.number, JOURNEY_TEST_TIMEOUT="1")
    took = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    problem = lines[lines.index(_line_of(result.stdout, MONEY)) + 1]
    assert re.search(r"timed out after 1 s in test_\w+", problem), result.stdout
    assert re.search(r"its other \d+ tests were not run", problem), "one hang, not one per test"
    for exercise in LESSON.exercises:
        if exercise != MONEY:
            assert "not started" in _line_of(result.stdout, exercise), "the rest ran as usual"
    assert took < 60, f"the check ended in {took:.0f} s"
    sleeper = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _alive(sleeper) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(sleeper), "the helper process a hanging test started is ended too"


def test_an_import_error_names_the_file_and_line(lab: Path) -> None:
    first = LESSON.exercises[0]
    broken = _in(lab, first)
    lines = broken.read_text(encoding="utf-8").splitlines()
    lines.insert(12, "oops = undefined_name")
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _journey(lab, "check", first.id)
    assert result.returncode == 1
    line = _line_of(result.stdout, first)
    assert "cannot be imported" in line
    relative = broken.relative_to(lab).as_posix()
    assert f"{relative}, line 13: NameError" in result.stdout, result.stdout


def test_a_syntax_error_is_reported_as_such(lab: Path) -> None:
    first = LESSON.exercises[0]
    _in(lab, first).write_text("def oops(:\n", encoding="utf-8")
    result = _journey(lab, "check", LESSON.number)
    assert result.returncode == 1
    assert "cannot be imported" in result.stdout
    assert "line 1: SyntaxError" in result.stdout


def test_check_without_progress_markers_fails_and_leaves_the_file(lab: Path) -> None:
    log = lab / "LEARNING_LOG.md"
    mine = "# My log\n\nNo markers here, only my words.\n"
    log.write_text(mine, encoding="utf-8")
    result = _journey(lab, "check", MONEY.id)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "progress block" in result.stderr
    assert "<!-- journey:progress:start -->" in result.stderr
    assert log.read_text(encoding="utf-8") == mine


def test_check_of_an_unknown_lesson_lists_the_lessons(lab: Path) -> None:
    result = _journey(lab, "check", "99")
    assert result.returncode == 2
    assert "There is no lesson '99'" in result.stderr
    unknown = _journey(lab, "check", "01.99")
    assert unknown.returncode == 2
    assert MONEY.id in unknown.stderr, "an unknown exercise lists the lesson's exercises"


def _git(lab: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=lab,
        check=True,
        capture_output=True,
    )


def test_reset_restores_the_shipped_stub_even_after_a_commit(lab: Path) -> None:
    stub = _in(lab, MONEY)
    original = stub.read_text(encoding="utf-8")
    _git(lab, "init", "-q")
    _git(lab, "add", "-A")
    _git(lab, "commit", "-qm", "the lab")
    stub.write_text("# my attempt\n", encoding="utf-8")
    _git(lab, "commit", "-qam", "my attempt")  # git now knows the attempt, not the stub

    result = _journey(lab, "reset", MONEY.id)
    assert result.returncode == 0, result.stdout + result.stderr
    assert stub.read_text(encoding="utf-8") == original
    backups = list((lab / ".journey" / "backups").rglob(stub.name))
    assert [b.read_text(encoding="utf-8") for b in backups] == ["# my attempt\n"]
    again = _journey(lab, "reset", MONEY.id)
    assert "already the stub as shipped" in again.stdout


def test_outside_a_lab_journey_says_where_to_go(tmp_path: Path) -> None:
    """A journey with no lab around it (installed on its own) says how to get to one."""
    alone = tmp_path / "site"
    shutil.copytree(ROOT / "journey", alone / "journey", ignore=shutil.ignore_patterns("__py*"))
    result = subprocess.run(
        [sys.executable, "-m", "journey"],
        cwd=alone,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "300"},
    )
    assert result.returncode == 2
    assert "cd into the folder you cloned" in result.stderr
    assert "Traceback" not in result.stderr


def test_verify_stubs_flags_a_test_that_passes_on_a_stub(lab: Path) -> None:
    """The honesty check itself: a "stub" that is really finished must be caught."""
    exercise = LESSON.exercises[0]
    _solve(lab, exercise)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--verify-stubs", f"tests/{LESSON.folder}", "-q"],
        cwd=lab,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 1, result.stdout[-2000:]
    assert f"passes against the untouched stub of exercise {exercise.id}" in result.stdout


SERVICE_LESSON = next(
    (lesson for lesson in lessons() if {"postgres", "redis"} <= set(lesson.services)), None
)


def _service_env(**env: str) -> dict[str, str]:
    if postgres_url := os.environ.get("JOURNEY_POSTGRES_URL"):
        env.setdefault("JOURNEY_POSTGRES_URL", postgres_url)
    return env


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.skipif(SERVICE_LESSON is None, reason="no lesson uses PostgreSQL and Redis yet")
def test_a_missing_service_skips_only_its_exercises_and_never_lowers_progress(lab: Path) -> None:
    assert SERVICE_LESSON is not None
    lesson = SERVICE_LESSON
    redis_one = next(e for e in lesson.exercises if e.services == ("redis",))
    redis_all = [e for e in lesson.exercises if "redis" in e.services]
    postgres_only = [e for e in lesson.exercises if e.services == ("postgres",)]
    _solve(lab, redis_one)

    up = _journey(lab, "check", lesson.number, **_service_env())
    assert "done" in _line_of(up.stdout, redis_one), up.stdout
    for exercise in postgres_only:
        assert "not started" in _line_of(up.stdout, exercise), "untouched stubs, services up"
    assert f"1 of {len(lesson.exercises)} done" in up.stdout

    closed = _service_env(JOURNEY_REDIS_URL="redis://127.0.0.1:1/0")
    down = _journey(lab, "check", lesson.number, **closed)
    assert down.returncode == 1, down.stdout + down.stderr
    for exercise in redis_all:
        assert "skipped" in _line_of(down.stdout, exercise), down.stdout
    assert "docker compose up -d redis" in down.stdout
    for exercise in postgres_only:
        assert "tests" in _line_of(down.stdout, exercise), f"{exercise.id}'s tests still ran"
    assert f"1 of {len(lesson.exercises)} done" in down.stdout, "a skip never lowers progress"
    table = (lab / "LEARNING_LOG.md").read_text(encoding="utf-8")
    assert re.search(rf"\| {lesson.number} \| .* \| 1 of {len(lesson.exercises)} \|", table), (
        "the header and the stored table agree"
    )

    required = _journey(lab, "check", lesson.number, JOURNEY_REQUIRE_SERVICES="1", **closed)
    assert required.returncode == 1
    assert "skipped" not in required.stdout
    assert "JOURNEY_REQUIRE_SERVICES=1 forbids skipping it" in required.stdout


# -- watch mode -------------------------------------------------------------------------------


class Watcher:
    """`journey check ... --watch` running in the background; reads its output with deadlines."""

    def __init__(self, lab: Path, target: str) -> None:
        import queue
        import threading

        self.process = subprocess.Popen(
            [sys.executable, "-m", "journey", "check", target, "--watch"],
            cwd=lab,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={"PATH": "/usr/bin:/bin", "COLUMNS": "300", "HOME": str(lab)},
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put("")

    def until(self, marker: str, seconds: float = 60) -> list[str]:
        """The lines printed until one containing ``marker`` (fails after ``seconds``)."""
        import queue

        deadline = time.monotonic() + seconds
        seen: list[str] = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if not line:
                break
            seen.append(line)
            if marker in line:
                return seen
        raise AssertionError(f"no {marker!r} within {seconds} s; printed:\n{''.join(seen)}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.reader.join(timeout=10)


@pytest.fixture
def watching(lab: Path) -> Iterator[Watcher]:
    watcher = Watcher(lab, LESSON.number)
    try:
        yield watcher
    finally:
        watcher.stop()


@pytest.mark.skipif(os.name != "posix", reason="stops the watcher with SIGINT")
def test_watch_reruns_only_the_exercise_whose_file_was_saved(lab: Path, watching: Watcher) -> None:
    first = watching.until("Watching")
    shown = [e for e in LESSON.exercises if any(_is_line_of(line, e) for line in first)]
    assert shown == list(LESSON.exercises), "the first run checks the whole lesson"
    _solve(lab, MONEY)
    after_save = watching.until("Watching")
    checked = [e for e in LESSON.exercises if any(_is_line_of(line, e) for line in after_save)]
    assert checked == [MONEY], f"only the saved exercise is re-run: {after_save}"
    assert "done" in _line_of("".join(after_save), MONEY)


def test_a_short_check_runs_in_one_child() -> None:
    files = ["tests/a/test_x.py", "tests/a/test_y.py"]
    assert share_out(files, {"tests/a/test_x.py": 0.2, "tests/a/test_y.py": 0.3}, 4) == [files]
    assert share_out(files, dict.fromkeys(files, 10.0), 1) == [files]
    assert share_out([], {}, 4) == []


def test_a_long_check_is_shared_out_by_last_times_longest_first() -> None:
    files = [f"tests/a/test_{name}.py" for name in "abcdef"]
    took = dict(zip(files, [1.0, 1.0, 1.0, 1.0, 5.0, 5.0], strict=True))
    groups = share_out(files, took, 2)
    assert sorted(sum(took[f] for f in group) for group in groups) == [7.0, 7.0]
    assert sorted(f for group in groups for f in group) == files  # each file once
    for group in groups:
        assert group == sorted(group)  # a group keeps the lesson's order


def test_files_never_timed_count_as_a_second_each() -> None:
    files = [f"tests/a/test_{n}.py" for n in range(4)]
    groups = share_out(files, {}, 2)  # four unknown seconds: worth two children
    assert len(groups) == 2
    assert sorted(map(len, groups)) == [2, 2]
