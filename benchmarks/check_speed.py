"""Times `journey check NN` or `journey check NN.K` the way a learner runs it (a fresh process
each time).

    uv run python benchmarks/check_speed.py            # lesson 01, 10 runs
    uv run python benchmarks/check_speed.py 02 20
    uv run python benchmarks/check_speed.py 01.2 10    # one exercise
    uv run python benchmarks/check_speed.py 08 5 solved    # with the solutions copied over

A check of a lesson without services should take about a second, one exercise at most 1.5 s.
The run works on a private copy of the lab (stubs), so it never touches your exercises or
LEARNING_LOG.md.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from journey.sandbox import copy_lab


def learner_environment() -> dict[str, str]:
    """This environment, less PYTHONDONTWRITEBYTECODE: a learner's Python caches the bytecode of
    their edited modules and the lesson's rewritten tests, and that is the speed they see."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def time_check(lab: Path, target: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the check and every process it started)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "journey", "check", target],
        cwd=lab,
        capture_output=True,
        check=False,
        env=learner_environment(),
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def solve(lab: Path, target: str) -> None:
    """Copies the reference solutions of the target's lesson over its exercises, as a learner
    who has done them all would have them."""
    lesson = next((lab / "solutions").glob(f"{target[:2]}_*"))
    shutil.copytree(lesson, lab / "exercises" / lesson.name, dirs_exist_ok=True)


def main(target: str = "01", runs: str = "10", state: str = "stubs") -> None:
    if state not in {"stubs", "solved"}:
        sys.exit(f"the third argument is 'stubs' or 'solved', not {state!r}")
    with tempfile.TemporaryDirectory() as folder:
        lab = Path(folder)
        copy_lab(lab)
        if state == "solved":
            solve(lab, target)
        time_check(lab, target)  # warm-up: bytecode caches, the OS's file cache
        runs_made = [time_check(lab, target) for _ in range(int(runs))]
    timings = [wall for wall, _ in runs_made]
    print(f"journey check {target} ({state}): {len(timings)} runs")
    print(f"  median {statistics.median(timings):.3f} s")
    print(f"  min    {min(timings):.3f} s")
    print(f"  max    {max(timings):.3f} s")
    # on a shared machine the wall time waits for other people's work; the CPU time does not
    print(f"  CPU    {statistics.median(cpu for _, cpu in runs_made):.3f} s (median)")


if __name__ == "__main__":
    main(*sys.argv[1:])
