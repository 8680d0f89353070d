"""multiprocessing: a Pool, memory shared with a lock, a Manager, and the main guard.

Processes share no memory: arguments and results travel pickled through pipes. When they
must share state, multiprocessing offers shared memory (`Value`, `Array`, with a lock) and a
Manager (a server process holding ordinary dicts and lists that others reach by proxy).
Everything here uses the "spawn" start method: each worker is a fresh interpreter that
imports this file again, which is why the work starts only under the main guard.

    uv run python lessons/05_async/examples/06_multiprocessing.py
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

ADDS = 20_000


def square(n: int) -> tuple[int, int]:
    """Work for a pool: runs in a worker process (it must be importable: top level)."""
    return n * n, os.getpid()


def add_unsafely(counter: Synchronized, adds: int, start) -> None:
    start.wait()  # all four begin together, on as many cores as there are
    for _ in range(adds):
        counter.value += 1  # a read and a write: another process can slip in between


def add_safely(counter: Synchronized, adds: int, start) -> None:
    start.wait()
    for _ in range(adds):
        with counter.get_lock():  # the Value's own lock, shared by every process
            counter.value += 1


def record(shared: dict, key: str) -> None:
    shared[key] = os.getpid()  # a Manager's dict: every process sees the same one


def race(context, target) -> int:
    counter = context.Value("i", 0)  # an int in shared memory, with a lock beside it
    start = context.Barrier(4)
    workers = [context.Process(target=target, args=(counter, ADDS, start)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return counter.value


UNGUARDED = """
import multiprocessing

def work():
    print("working")

# no `if __name__ == "__main__":` around the next three lines
worker = multiprocessing.get_context("spawn").Process(target=work)
worker.start()
worker.join()
"""


def run_unguarded() -> str:
    """Runs a script without the main guard: the spawned child imports it again, reaches
    `worker.start()` itself, and multiprocessing stops it with a RuntimeError."""
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "unguarded.py"
        script.write_text(textwrap.dedent(UNGUARDED), encoding="utf-8")
        result = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=60
        )
    lines = [line.strip() for line in result.stderr.splitlines() if "An attempt" in line]
    return f"RuntimeError: {lines[0]} ..." if lines else f"exit status {result.returncode}"


def main() -> None:
    context = multiprocessing.get_context("spawn")

    started = time.perf_counter()
    with context.Pool(processes=2) as pool:  # leaving the block terminates the workers
        results = pool.map(square, range(6))  # results in input order
    elapsed = time.perf_counter() - started
    elsewhere = all(pid != os.getpid() for _, pid in results)
    print(f"Pool.map: {[value for value, _ in results]} (all computed in workers: {elsewhere})")
    print(f"  {elapsed:.2f} s, most of it starting 2 fresh interpreters (spawn)")

    expected = 4 * ADDS
    print(f"4 processes add 1 to a shared Value {ADDS} times each (expected {expected}):")
    print(f"  without the lock: {race(context, add_unsafely)}")
    print(f"  with the lock:    {race(context, add_safely)}")

    with context.Manager() as manager:  # a server process; stopped when the block ends
        shared = manager.dict()
        workers = [context.Process(target=record, args=(shared, f"w{n}")) for n in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        print(f"a Manager dict filled by 3 processes: {sorted(shared.keys())}")

    print("a script that starts processes without the main guard, under spawn:")
    print(f"  {run_unguarded()}")
    print(f"leftover child processes: {multiprocessing.active_children()}")


if __name__ == "__main__":  # required: spawned workers import this file again
    main()
