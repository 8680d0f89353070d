"""Runs lab test files with pytest in a child process, and reports each test as it ends.

Every run gets a fresh import state for the lesson's code (the learner's edited modules, a
mutant standing in for a solution module, the test modules and conftests) while the libraries
the tests use stay imported: on Linux the child is forked from this process, which keeps pytest
and, after the first run, every third-party module the tests imported (:meth:`TestRunner.warm`);
elsewhere (or with ``JOURNEY_NO_FORK=1``) the child is a new interpreter
(``python -m journey.testrun``).

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
import gc
import importlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journey.catalog import MUTANTS_DIR, ROOT, TESTS_DIR, TREES

if TYPE_CHECKING:
    import pytest

NO_FORK_ENV = "JOURNEY_NO_FORK"
GRACE_SECONDS = 5.0  # after a test's own limit, how long the child has to report it
DEFAULT_TEST_TIMEOUT = 10.0  # for a test that has no timeout marker of its own
# Where the lesson's own code lives: modules from there are imported afresh by every run.
LAB_CONTENT = tuple(f"{folder}{os.sep}" for folder in (TESTS_DIR, MUTANTS_DIR, *TREES.values()))

# The only third-party pytest plugin a run loads (its per-test time limits). Plugins are not
# auto-loaded: scanning every installed package for them costs a tenth of a second per run,
# and the exercise tests need none of the others (nbmake, hypothesis's, respx's, anyio's...).
PLUGINS = ("pytest_timeout",)
AUTOLOAD_ENV = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"


@dataclass(frozen=True)
class Substitute:
    """Run with ``module`` of ``lesson_folder`` replaced by ``path`` (see journey.targets)."""

    lesson_folder: str
    module: str
    path: str


@dataclass(frozen=True)
class RunSpec:
    """What to run. Plain data, so that a new interpreter can be handed it as JSON."""

    files: tuple[str, ...]
    target: str = "exercises"
    substitutes: tuple[Substitute, ...] = ()
    stop_at_first_failure: bool = False
    verbose: bool = False  # pytest's own output goes to this process's terminal
    env: dict[str, str] = field(default_factory=dict)
    collect_timeout: float = 30.0
    keywords: str = ""  # pytest -k
    first: tuple[str, ...] = ()  # node ids to run before the others (a likely catch, say)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        data = json.loads(text)
        data["files"] = tuple(data["files"])
        data["substitutes"] = tuple(Substitute(**s) for s in data["substitutes"])
        data["first"] = tuple(data["first"])
        return cls(**data)


@dataclass
class TestResult:
    __test__ = False
    nodeid: str
    outcome: str  # "passed" | "failed" | "skipped"
    phase: str = "call"  # the phase that decided the outcome: "setup", "call" or "teardown"
    message: str = ""
    not_implemented: bool = False
    timed_out: bool = False
    seconds: float = 0.0

    @property
    def name(self) -> str:
        """The test's name inside its file: ``test_x[param]``."""
        return self.nodeid.split("::", 1)[-1]

    @property
    def file(self) -> str:
        return self.nodeid.split("::", 1)[0]


@dataclass(frozen=True)
class CollectionError:
    file: str
    message: str


@dataclass
class RunResult:
    tests: list[TestResult] = field(default_factory=list)
    collection_errors: list[CollectionError] = field(default_factory=list)
    crashed: str = ""  # the child ended without finishing its session, and why
    modules: list[str] = field(default_factory=list)  # third-party modules the child imported
    seconds: float = 0.0


Listener = Callable[[dict[str, Any]], None]


# -- the parent's side ------------------------------------------------------------------------


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
    """Runs specs one after another in child processes, keeping this process warm."""

    __test__ = False  # not a test class, whatever pytest guesses from the name

    def __init__(self, fork: bool | None = None) -> None:
        self.fork = fork
        self.warmed: set[str] = set()

    def run(self, spec: RunSpec, listener: Listener | None = None) -> RunResult:
        """Runs ``spec`` in a child process and returns what happened to every test."""
        started = time.monotonic()
        forking = can_fork() if self.fork is None else (self.fork and can_fork())
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()  # or the child would write the parent's buffered text again
        child: _Child = _Forked(spec) if forking else _Spawned(spec)
        builder = _ResultBuilder()
        try:
            finished = self._follow(child, spec, builder, listener)
        finally:
            child.kill_group()
            exit_status = child.reap()
        result = builder.result
        if not finished and not result.crashed:
            result.crashed = f"the test process ended unexpectedly ({exit_status})"
        result.seconds = time.monotonic() - started
        if forking and result.modules:
            self.warm(result.modules)
        return result

    def _follow(
        self, child: _Child, spec: RunSpec, builder: _ResultBuilder, listener: Listener | None
    ) -> bool:
        """Reads the child's events until it is done (True), dies or runs out of time."""
        running: tuple[str, float] | None = None
        deadline = time.monotonic() + spec.collect_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                builder.ran_out_of_time(running, spec)
                return True
            line = child.readline(remaining)
            if line is None:
                continue
            if not line:
                return False
            event = json.loads(line)
            if listener is not None:
                listener(event)
            kind = event["event"]
            if kind == "start":
                limit = float(event.get("timeout") or DEFAULT_TEST_TIMEOUT)
                running = (event["nodeid"], limit)
                deadline = time.monotonic() + limit + GRACE_SECONDS
            elif kind == "reports":
                for report in event["reports"]:
                    builder.add_report(report)
                running = None
                deadline = time.monotonic() + spec.collect_timeout
            elif kind == "collect_error":
                builder.result.collection_errors.append(
                    CollectionError(event["nodeid"], event["message"])
                )
            elif kind == "crash":
                builder.result.crashed = event["message"]
            elif kind == "done":
                builder.result.modules = list(event.get("modules", []))
                return True

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


class _ResultBuilder:
    def __init__(self) -> None:
        self.result = RunResult()
        self.by_id: dict[str, TestResult] = {}

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
            seconds=float(event.get("seconds", 0.0)),
        )
        if current is None:
            self.result.tests.append(result)
        else:
            self.result.tests[self.result.tests.index(current)] = result
        self.by_id[nodeid] = result

    def ran_out_of_time(self, running: tuple[str, float] | None, spec: RunSpec) -> None:
        if running is None:
            if not self.result.tests:
                message = (
                    f"timed out after {spec.collect_timeout:g} s while importing the tests: "
                    "is there an endless loop at the top level of a module?"
                )
                for file in spec.files:
                    self.result.collection_errors.append(CollectionError(file, message))
            else:
                self.result.crashed = (
                    f"timed out after {spec.collect_timeout:g} s between two tests"
                )
            return
        nodeid, limit = running
        name = nodeid.split("::", 1)[-1]
        message = (
            f"timed out after {limit:g} s in {name} "
            "(it did not stop when interrupted, so its process was ended)"
        )
        current = self.by_id.get(nodeid)
        if current is not None and current.outcome == "failed":
            current.message = f"{current.message}; then {message}"
            return
        self.add_report(
            {
                "nodeid": nodeid,
                "when": "call",
                "outcome": "failed",
                "message": message,
                "timed_out": True,
            }
        )
        if current is not None:  # it had passed its call and hung in teardown
            self.add_report(
                {
                    "nodeid": nodeid,
                    "when": "teardown",
                    "outcome": "failed",
                    "message": message,
                    "timed_out": True,
                }
            )


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
            chunk = os.read(self.fd, 65536)
            if chunk:
                self.buffer += chunk
            else:
                self.eof = True
        line, newline, self.buffer = self.buffer.partition(b"\n")
        return line + newline

    def kill_group(self) -> None:
        raise NotImplementedError

    def reap(self) -> str:
        raise NotImplementedError


class _Forked(_Child):
    def __init__(self, spec: RunSpec) -> None:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read_fd)
            _forked_child(spec, write_fd)
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
            [sys.executable, "-m", "journey.testrun"],
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


# -- the child's side -------------------------------------------------------------------------


class _Sink:
    """Writes events to the parent, one JSON line each, straight to the pipe (no buffer to lose
    when the child ends with os._exit)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def emit(self, event: dict[str, Any]) -> None:
        data = (json.dumps(event) + "\n").encode()
        while data:
            written = os.write(self.fd, data)
            data = data[written:]


def _forked_child(spec: RunSpec, fd: int) -> None:
    """Runs in the forked child and ends it with os._exit: it must never return to the
    parent's code, whatever happens."""
    code = 1
    sink = _Sink(fd)
    try:
        # What the parent holds is never garbage here: keep the collector off it, so the
        # child neither spends time scanning it nor copies its memory pages by touching them.
        gc.freeze()
        os.setpgid(0, 0)
        _quiet_stdio(spec.verbose)
        code = child_main(spec, sink)
    except BaseException:
        with contextlib.suppress(BaseException):
            sink.emit({"event": "crash", "message": traceback.format_exc(limit=5)[-2000:]})
    finally:
        os._exit(code)


def _quiet_stdio(verbose: bool) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    if not verbose:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    os.close(devnull)
    sys.stdin, sys.stdout, sys.stderr = sys.__stdin__, sys.__stdout__, sys.__stderr__


def _spawned_main() -> int:
    """``python -m journey.testrun``: the spec comes on stdin, events go out on stdout."""
    spec = RunSpec.from_json(sys.stdin.read())
    events = os.dup(1)
    if spec.verbose:
        os.dup2(2, 1)  # pytest's report goes to the terminal, through stderr
    else:
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 1)
        os.close(devnull)
    sink = _Sink(events)
    try:
        code = child_main(spec, sink)
    except BaseException:
        sink.emit({"event": "crash", "message": traceback.format_exc(limit=5)[-2000:]})
        code = 1
    sys.stdout.flush()
    os._exit(code)  # skip interpreter shutdown: a thread a test left running cannot block it


def _forget_lab_modules() -> None:
    """Drops the lesson's modules, test modules and conftests that this process may have
    imported: the run imports them afresh (third-party modules stay)."""
    from journey import targets

    targets.clear_substitutes()
    for name, module in list(sys.modules.items()):
        if name.startswith(targets.PACKAGE_ROOT) or _is_lab_content(module):
            del sys.modules[name]


def _is_lab_content(module: Any) -> bool:
    file = getattr(module, "__file__", None)
    return isinstance(file, str) and file.startswith(LAB_CONTENT)


def _warmable(before: set[str]) -> list[str]:
    """The public modules imported since ``before``, in import order, that a parent may import
    to warm up: from outside the lab's lessons and tests."""
    from journey.targets import PACKAGE_ROOT

    kept = []
    for name, module in list(sys.modules.items()):
        if name in before or name.startswith(PACKAGE_ROOT) or module is None:
            continue
        if any(part.startswith("_") for part in name.split(".")):
            continue
        if not isinstance(getattr(module, "__file__", None), str) or _is_lab_content(module):
            continue
        kept.append(name)
    return kept


def pytest_args(spec: RunSpec) -> list[str]:
    args = [
        *spec.files,
        "--rootdir",
        str(ROOT),
        "-o",
        "addopts=",
        "-p",
        "journey.pytest_plugin",
        "--import-mode=importlib",
        f"--timeout={DEFAULT_TEST_TIMEOUT:g}",
    ]
    if hasattr(signal, "SIGALRM"):
        args.append("--timeout-method=signal")
    if spec.verbose:
        args += ["-v", "--tb=short"]
    else:
        # the parent prints its own summary; full tracebacks would only cost time
        args += ["-q", "--no-header", "--tb=line"]
    if spec.stop_at_first_failure:
        args.append("--exitfirst")
    else:
        args.append("--continue-on-collection-errors")  # one broken file must not stop the rest
    if spec.keywords:
        args += ["-k", spec.keywords]
    for plugin in PLUGINS:
        args += ["-p", plugin]
    # no .pytest_cache writes from runs that may be killed
    return [*args, "-p", "no:cacheprovider"]


def child_main(spec: RunSpec, sink: _Sink) -> int:
    """Runs the spec's tests with pytest, in this (child) process, emitting events."""
    import pytest

    from journey import targets

    os.chdir(ROOT)
    os.environ.pop("PYTEST_ADDOPTS", None)
    os.environ[AUTOLOAD_ENV] = "1"
    os.environ.update(spec.env)
    _forget_lab_modules()
    targets.set_target("solutions" if spec.target == "solutions" else "exercises")
    for sub in spec.substitutes:
        targets.substitute(sub.lesson_folder, sub.module, Path(sub.path))
    before = set(sys.modules)
    exit_code = pytest.main(pytest_args(spec), plugins=[_Reporter(sink, spec.first)])
    sink.emit(
        {
            "event": "done",
            "exit_code": int(exit_code),
            "modules": _warmable(before),
        }
    )
    return 0


def _timeout_of(item: pytest.Item) -> float | None:
    marker = item.get_closest_marker("timeout")
    if marker is not None:
        value = marker.args[0] if marker.args else marker.kwargs.get("timeout")
        return float(value) if value is not None else None
    option = item.config.getoption("timeout", None)
    return float(option) if option else None


class _Reporter:
    """The child's pytest plugin: turns pytest's hooks into events for the parent.

    A test's phase reports go out together when it ends, in one write: every write wakes the
    parent, which costs more than the test itself on a busy machine."""

    def __init__(self, sink: _Sink, first: tuple[str, ...] = ()) -> None:
        self.sink = sink
        self.first = first
        self.timeouts: dict[str, float | None] = {}
        self.pending: list[dict[str, Any]] = []

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        if self.first:
            # sorted() is stable: the hinted tests move to the front, the rest keep their order
            items[:] = sorted(items, key=lambda item: item.nodeid not in self.first)

    def pytest_runtest_protocol(self, item: pytest.Item) -> None:
        limit = _timeout_of(item)
        self.timeouts[item.nodeid] = limit
        self.sink.emit({"event": "start", "nodeid": item.nodeid, "timeout": limit})

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        text = report.longreprtext if report.failed else ""
        timed_out = "Timeout (>" in text and "pytest-timeout" in text
        message = short_message(report)
        if timed_out:
            limit = self.timeouts.get(report.nodeid) or DEFAULT_TEST_TIMEOUT
            message = f"timed out after {limit:g} s in {report.nodeid.split('::', 1)[-1]}"
        self.pending.append(
            {
                "nodeid": report.nodeid,
                "when": report.when,
                "outcome": report.outcome,
                "message": message,
                "not_implemented": "NotImplementedError" in text,
                "timed_out": timed_out,
                "seconds": report.duration,
            }
        )
        if report.when == "teardown":
            self.sink.emit({"event": "reports", "reports": self.pending})
            self.pending = []

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.sink.emit(
                {
                    "event": "collect_error",
                    "nodeid": report.nodeid,
                    "message": short_message(report),
                }
            )


_IMPORT_ERROR = re.compile(r"ExerciseImportError: (?P<message>.+)")


def short_message(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The line a learner needs: the assertion message or exception, not the traceback."""
    if report.passed:
        return ""
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    text = report.longreprtext
    if found := _IMPORT_ERROR.search(text):
        return found["message"].strip()[:300]
    lines = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    if report.when == "collect":
        # An import failure: the exception line ("SyntaxError: ...") and where it happened.
        errors = [line for line in lines if re.match(r"^\w+(Error|Exception)\b", line)]
        places = [line for line in lines if line.startswith("File ")]
        return " ".join(errors[-1:] + places[-1:])[:300] or " ".join(lines[-3:])[:300]
    if lines:
        return " ".join(lines[:3])[:300]
    last = text.strip().splitlines()
    return last[-1][:300] if last else ""


if __name__ == "__main__":
    raise SystemExit(_spawned_main())
