"""Times `journey check NN --watch` from a save to that exercise's verdict on the screen.

    uv run python benchmarks/watch_speed.py            # exercise 01.2, 10 saves
    uv run python benchmarks/watch_speed.py 02.1 20

It starts the watch on the exercise's lesson in a private copy of the lab, then saves the
exercise's file again and again (the reference solution, then the stub, in turn) and measures
the time from each save to the line that gives the exercise's verdict. For a lesson without
services it should stay well under a second.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from journey.catalog import ROOT, find_exercise
from journey.sandbox import copy_lab

LIMIT_SECONDS = 60.0


def read_lines(stream: object, lines: queue.Queue[tuple[float, str]]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put((time.perf_counter(), line))
    lines.put((time.perf_counter(), ""))


def wait_for(lines: queue.Queue[tuple[float, str]], pattern: re.Pattern[str]) -> float:
    """When the first line matching ``pattern`` was read."""
    deadline = time.monotonic() + LIMIT_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        at, line = lines.get(timeout=left)
        if not line:
            raise SystemExit("the watch ended")
        if pattern.search(line):
            return at
    raise SystemExit(f"nothing matched {pattern.pattern!r} within {LIMIT_SECONDS:g} s")


def main(exercise_id: str = "01.2", saves: str = "10") -> None:
    exercise = find_exercise(exercise_id)
    verdict = re.compile(rf"^ \S {re.escape(exercise.id)} ")
    with tempfile.TemporaryDirectory() as folder:
        lab = copy_lab(Path(folder))
        target = lab / exercise.source("exercises").relative_to(ROOT)
        versions = [
            (lab / exercise.source("solutions").relative_to(ROOT)).read_bytes(),
            target.read_bytes(),
        ]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        watch = subprocess.Popen(
            [sys.executable, "-m", "journey", "check", exercise.lesson_folder[:2], "--watch"],
            cwd=lab,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**env, "COLUMNS": "300"},
            start_new_session=True,
        )
        lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=read_lines, args=(watch.stdout, lines), daemon=True).start()
        timings = []
        try:
            wait_for(lines, re.compile("Watching"))
            for number in range(int(saves)):
                saved = time.perf_counter()
                target.write_bytes(versions[number % 2])
                timings.append(wait_for(lines, verdict) - saved)
                wait_for(lines, re.compile("Watching"))
        finally:
            os.killpg(watch.pid, signal.SIGINT)
            try:
                watch.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(watch.pid, signal.SIGKILL)
                watch.wait()
        shutil.rmtree(lab / ".journey", ignore_errors=True)
    print(f"journey check --watch, save of {exercise.id} to its verdict: {len(timings)} saves")
    print(f"  median {statistics.median(timings):.3f} s")
    print(f"  min    {min(timings):.3f} s")
    print(f"  max    {max(timings):.3f} s")


if __name__ == "__main__":
    main(*sys.argv[1:])
