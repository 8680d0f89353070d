"""Runs lab test files with pytest in a child process, and reports each test as it ends.

Every run gets a fresh import state for the lesson's code (the learner's edited modules, a
mutant standing in for a solution module, the test modules and conftests) while the libraries
the tests use stay imported: on Linux the child is forked from this process, which keeps pytest
and, after the first run, every third-party module the tests imported (:meth:`TestRunner.warm`);
elsewhere (or with ``JOURNEY_NO_FORK=1``) the child is a new interpreter
(``python -m journey.testchild``).

The child streams one JSON line per event (a test starts, a test phase ends, a file cannot be
collected) through a pipe. The parent enforces the time limits, so nothing a test does can hang
the caller:

* each test has a per-test limit (a ``timeout`` marker, which the lab's plugin puts on every
  exercise test: about 10 s, more when the exercise needs services). Inside the child,
  pytest-timeout interrupts the test with SIGALRM in the main thread, which also breaks out of
  a busy event loop or a wait on a thread, and the test fails: "timed out after N s in <test>";
* if the child does not report that within ``GRACE_SECONDS`` (a hang in C code, a thread that
  holds the interpreter), the parent kills it and reports the same;
* importing the test files has its own limit (``RunSpec.collect_timeout``);
* when the run ends, the child's whole process group is killed, so a server, worker or thread a
  test forgot to stop is never left behind.

Used by ``journey check`` (a lesson or one exercise, and ``--watch``) and by
``journey.mutation`` (``pytest --verify-mutants``).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from journey.catalog import ROOT
from journey.testchild import forked_child
from journey.testspec import (
    DEFAULT_TEST_TIMEOUT,
    CollectionError,
    Listener,
    RunResult,
    RunSpec,
    Substitute,
    TestResult,
)

__all__ = [
    "CollectionError",
    "Listener",
    "RunResult",
    "RunSpec",
    "Substitute",
    "TestResult",
    "TestRunner",
    "can_fork",
]

NO_FORK_ENV = "JOURNEY_NO_FORK"
GRACE_SECONDS = 5.0  # after a test's own limit, how long the child has to report it
BATCH_SECONDS = 0.01  # how long to let the child's events gather before reading them


def can_fork() -> bool:
    """Fork where it is safe and cheap: Linux and the BSDs, while one thread runs.

    macOS forbids much of its system libraries after a fork without exec, and Windows has no
    fork; there each run is a fresh interpreter.
    """
    if os.environ.get(NO_FORK_ENV, "").strip() not in ("", "0"):
        return False
    if not hasattr(os, "fork") or sys.platform == "darwin":
        return False
    return threading.active_count() == 1


class TestRunner:
    """Runs specs one after another in child processes.

    With ``keep_warm`` (for many runs: watch mode, mutants), this process imports the modules
    each child needed, so that the next child is forked with them already loaded; for a single
    run that would only cost time.
    """

    __test__ = False  # not a test class, whatever pytest guesses from the name

    def __init__(self, fork: bool | None = None, keep_warm: bool = True) -> None:
        self.fork = fork
        self.keep_warm = keep_warm
        self.warmed: set[str] = set()

    def run(self, spec: RunSpec, listener: Listener | None = None) -> RunResult:
        """Runs ``spec`` in a child process and returns what happened to every test."""
        running = self._start(spec, listener)
        child, follower = running.child, running.follower
        finished: bool | None = None
        try:
            while finished is None:
                remaining = follower.deadline - time.monotonic()
                if remaining <= 0:
                    follower.out_of_time()
                    finished = True
                    break
                line = child.readline(remaining)
                if line is not None:
                    finished = follower.feed(line)
        finally:
            result = self._finish(running, bool(finished))
        return result

    def run_many(
        self, specs: Sequence[RunSpec], listener: Listener | None = None, workers: int = 1
    ) -> list[RunResult]:
        """Runs the specs in up to ``workers`` children at once (one after another where a
        child's pipe cannot be waited on with select) and returns their results in order.
        Each child keeps its own time limits, exactly as :meth:`run` does."""
        if workers <= 1 or len(specs) <= 1 or os.name != "posix":
            return [self.run(spec, listener) for spec in specs]
        import select

        waiting = list(enumerate(specs))
        active: dict[int, tuple[int, _Running]] = {}  # by the fd of the child's pipe
        results: dict[int, RunResult] = {}
        try:
            while waiting or active:
                while waiting and len(active) < workers:
                    index, spec = waiting.pop(0)
                    running = self._start(spec, listener)
                    active[running.child.fd] = (index, running)
                now = time.monotonic()
                for fd, (index, running) in list(active.items()):
                    if running.follower.deadline <= now:
                        running.follower.out_of_time()
                        results[index] = self._finish(running, True)
                        del active[fd]
                if not active:
                    continue
                wait = min(running.follower.deadline for _, running in active.values()) - now
                ready, _, _ = select.select(list(active), [], [], max(0.0, wait))
                if ready:
                    time.sleep(BATCH_SECONDS)  # as in _Child.readline: let events gather
                for fd in ready:
                    index, running = active[fd]
                    finished = None
                    for line in running.child.read_lines():
                        finished = running.follower.feed(line)
                        if finished is not None:
                            break
                    if finished is not None:
                        results[index] = self._finish(running, finished)
                        del active[fd]
        finally:
            for index, running in active.values():  # only after an error here: stop them all
                results[index] = self._finish(running, False)
        return [results[index] for index in range(len(specs))]

    def _start(self, spec: RunSpec, listener: Listener | None) -> _Running:
        forking = can_fork() if self.fork is None else (self.fork and can_fork())
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()  # or the child would write the parent's buffered text again
        started = time.monotonic()
        child: _Child = _Forked(spec) if forking else _Spawned(spec)
        return _Running(child, _Follower(spec, listener), forking, started)

    def _finish(self, running: _Running, finished: bool) -> RunResult:
        """Ends the child (and anything it started) and completes its result."""
        running.child.kill_group()
        exit_status = running.child.reap()
        result = running.follower.builder.result
        if not finished and not result.crashed:
            result.crashed = f"the test process ended unexpectedly ({exit_status})"
        result.seconds = time.monotonic() - running.started
        if running.forking and self.keep_warm and result.modules:
            self.warm(result.modules)
        return result

    def warm(self, modules: list[str]) -> None:
        """Imports, here, the modules a child needed, in the order the child imported them:
        the next child is forked with them already in memory. Private modules (a ``_`` in the
        name) come along with their public parents; one that does not import cleanly is
        skipped, and so is any warning an import makes."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in modules:
                if name in self.warmed or name in sys.modules:
                    continue
                self.warmed.add(name)
                with contextlib.suppress(Exception):
                    importlib.import_module(name)


@dataclass
class _Running:
    """A child at work: its process and pipe, and what has been read of its events."""

    child: _Child
    follower: _Follower
    forking: bool
    started: float


class _Follower:
    """Turns one child's events into its result and keeps its clock: the child must say
    something before ``deadline`` (a test's limit while one runs, the import limit between
    them), or it is out of time."""

    def __init__(self, spec: RunSpec, listener: Listener | None) -> None:
        self.spec = spec
        self.listener = listener
        self.builder = _ResultBuilder()
        self.running: tuple[str, float] | None = None
        self.between = spec.import_timeout + GRACE_SECONDS  # importing a module, or between tests
        self.deadline = time.monotonic() + self.between

    def out_of_time(self) -> None:
        self.builder.ran_out_of_time(self.running, self.spec)

    def feed(self, line: bytes) -> bool | None:
        """Reads one line: True once the child is done, False if it ended without saying so
        (an empty line is the end of its pipe), None while it goes on."""
        if not line:
            return False
        event = json.loads(line)
        kind = event["event"]
        if kind == "start" and event.get("reports"):  # the reports of the test before
            self._reports(event.pop("reports"))
        if self.listener is not None and kind != "reports":
            self.listener(event)
        if kind == "start":
            limit = float(event.get("timeout") or DEFAULT_TEST_TIMEOUT)
            self.running = (event["nodeid"], limit)
            self.deadline = time.monotonic() + limit + GRACE_SECONDS
            return None
        self.deadline = time.monotonic() + self.between
        result = self.builder.result
        if kind == "reports":
            self._reports(event["reports"])
            self.running = None
        elif kind == "collected":
            self.builder.collected.add(event["nodeid"])
        elif kind == "collect_error":
            self.builder.collected.add(event["nodeid"])
            result.collection_errors.append(CollectionError(event["nodeid"], event["message"]))
        elif kind == "crash":
            result.crashed = event["message"]
        elif kind == "done":
            result.modules = list(event.get("modules", []))
            result.file_seconds = dict(event.get("file_seconds", {}))
            return True
        return None

    def _reports(self, reports: list[dict[str, Any]]) -> None:
        for report in reports:
            self.builder.add_report(report)
        if self.listener is not None:
            self.listener({"event": "reports", "reports": reports})


class _ResultBuilder:
    def __init__(self) -> None:
        self.result = RunResult()
        self.by_id: dict[str, TestResult] = {}
        self.collected: set[str] = set()

    def add_report(self, event: dict[str, Any]) -> None:
        nodeid, when, outcome = event["nodeid"], event["when"], event["outcome"]
        current = self.by_id.get(nodeid)
        decides = (
            (when == "setup" and outcome != "passed")
            or (when == "call" and current is None)
            or (
                when == "teardown"
                and outcome == "failed"
                and (current is None or current.outcome == "passed")
            )
        )
        if not decides:
            return
        result = TestResult(
            nodeid=nodeid,
            outcome=outcome,
            phase=when,
            message=event.get("message", ""),
            not_implemented=bool(event.get("not_implemented")),
            timed_out=bool(event.get("timed_out")),
            not_run=bool(event.get("not_run")),
            seconds=float(event.get("seconds", 0.0)),
        )
        if current is None:
            self.result.tests.append(result)
        else:
            self.result.tests[self.result.tests.index(current)] = result
        self.by_id[nodeid] = result

    def ran_out_of_time(self, running: tuple[str, float] | None, spec: RunSpec) -> None:
        """The child stopped answering within its limit: it is about to be killed."""
        if running is None:
            message = (
                f"timed out after {spec.import_timeout:g} s while importing it: is there an "
                "endless loop at the top level of a module?"
            )
            pending = [f for f in spec.files if _relative(f) not in self.collected]
            for file in pending[:1]:  # the one being imported; the others never started
                self.result.collection_errors.append(CollectionError(_relative(file), message))
                self.result.killed_in = _relative(file)
            if not pending:
                self.result.crashed = "the test process stopped answering between two tests"
            return
        nodeid, limit = running
        self.result.killed_in = nodeid
        name = nodeid.split("::", 1)[-1]
        message = (
            f"timed out after {limit:g} s in {name} "
            "(it did not stop when interrupted, so its process was ended)"
        )
        current = self.by_id.get(nodeid)
        if current is not None and current.outcome == "failed":
            current.message = f"{current.message}; then {message}"
            return
        report = {"nodeid": nodeid, "outcome": "failed", "message": message, "timed_out": True}
        self.add_report({**report, "when": "call"})
        if current is not None:  # it had passed its call and hung in teardown
            self.add_report({**report, "when": "teardown"})


def _relative(file: str) -> str:
    """A test file as pytest names it in node ids: relative to the lab, with / separators."""
    path = Path(file)
    if path.is_absolute() and path.is_relative_to(ROOT):
        path = path.relative_to(ROOT)
    return path.as_posix()


class _Child:
    """A running child process and the pipe it writes its events to."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""
        self.eof = False
        self.lines: queue.Queue[bytes] | None = None
        if os.name != "posix":  # select() cannot wait on a pipe there: read in a thread
            self.lines = queue.Queue()
            threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.lines is not None
        with open(self.fd, "rb", closefd=False) as stream:
            for line in stream:
                self.lines.put(line)
        self.lines.put(b"")

    def readline(self, timeout: float) -> bytes | None:
        """The next line; ``b""`` at the end of the stream; None if none came in time."""
        if self.lines is not None:
            try:
                return self.lines.get(timeout=timeout)
            except queue.Empty:
                return None
        import select

        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer and not self.eof:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                return None
            # let a few more events arrive before reading: a busy machine then switches
            # between the child and this process a few times a second, not after every test
            time.sleep(min(BATCH_SECONDS, max(0.0, deadline - time.monotonic())))
            chunk = os.read(self.fd, 1 << 20)
            if chunk:
                self.buffer += chunk
            else:
                self.eof = True
        line, newline, self.buffer = self.buffer.partition(b"\n")
        return line + newline

    def read_lines(self) -> list[bytes]:
        """The whole lines that have arrived, after select() said the pipe is ready (POSIX);
        an empty line last once the child closed it."""
        chunk = os.read(self.fd, 1 << 20)
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        found = [line + b"\n" for line in lines]
        if not chunk:
            self.eof = True
            found += [self.buffer, b""] if self.buffer else [b""]
            self.buffer = b""
        return found

    def kill_group(self) -> None:
        raise NotImplementedError

    def reap(self) -> str:
        raise NotImplementedError


class _Forked(_Child):
    def __init__(self, spec: RunSpec) -> None:
        read_fd, write_fd = os.pipe()
        with contextlib.suppress(ImportError, OSError, AttributeError):
            import fcntl  # a roomy pipe (Linux): the child never waits for this process to read

            fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, 1 << 20)
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read_fd)
            forked_child(spec, write_fd)
        os.close(write_fd)
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)  # the child does it too: whichever runs first wins the race
        self.pid = pid
        super().__init__(read_fd)

    def kill_group(self) -> None:
        # The child is not reaped yet, so its process group id cannot belong to anyone else.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)

    def reap(self) -> str:
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return _describe_status(status)


class _Spawned(_Child):
    def __init__(self, spec: RunSpec) -> None:
        options: dict[str, Any] = {}
        if os.name == "posix":
            options["start_new_session"] = True
        else:
            options["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "journey.testchild"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None if spec.verbose else subprocess.DEVNULL,
            cwd=ROOT,
            **options,
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(spec.to_json().encode())
        self.process.stdin.close()
        super().__init__(self.process.stdout.fileno())

    def kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            if os.name == "posix":
                os.killpg(self.process.pid, signal.SIGKILL)
            else:
                self.process.kill()

    def reap(self) -> str:
        code = self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return f"exit code {code}"


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit code {os.WEXITSTATUS(status)}"
