"""The child side of a lab test run: pytest in this process, each event sent to the parent.

``journey.testrun`` starts it, forked from the parent (Linux) or as ``python -m
journey.testchild`` (elsewhere), and reads one JSON line per event from it: a test starts, a
test ends (its phase reports together), a test file is imported or fails to import, the run is
done. Before pytest starts, the lesson's modules, the test modules and conftests that this
process may hold are forgotten, so that they are imported afresh; a substitute (a mutant)
takes its module's place.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import re
import signal
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pluggy import HookimplMarker

from journey.catalog import MUTANTS_DIR, ROOT, TESTS_DIR, TREES
from journey.testspec import DEFAULT_TEST_TIMEOUT, NOT_RUN, RunSpec

if TYPE_CHECKING:
    import pytest

# pytest.hookimpl, without importing pytest into a parent that does not need it
pytest_hookimpl = HookimplMarker("pytest")
# Where the lesson's own code lives: modules from there are imported afresh by every run.
LAB_CONTENT = tuple(f"{folder}{os.sep}" for folder in (TESTS_DIR, MUTANTS_DIR, *TREES.values()))
# The only third-party pytest plugin a run loads (its per-test time limits). Plugins are not
# auto-loaded: scanning every installed package for them costs a tenth of a second per run,
# and the exercise tests need none of the others (nbmake, hypothesis's, respx's, anyio's...).
# It is handed to pytest as a module: named with -p, it would cost that scan again.
PLUGINS = ("pytest_timeout",)
AUTOLOAD_ENV = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"
# pytest's own plugins that a run has no use for (each costs a little per run, and lesson 11
# makes hundreds of runs): no .pytest_cache writes from runs that may be killed, no doctests
# or report files, no options that only make sense on pytest's command line.
UNUSED_BUILTIN_PLUGINS = (
    "cacheprovider",
    "doctest",
    "junitxml",
    "pastebin",
    "stepwise",
    "setuponly",
    "setupplan",
)


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


def forked_child(spec: RunSpec, fd: int) -> None:
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


def spawned_main() -> int:
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
        if any(part.startswith("_") for part in name.split(".")) or name.split(".")[0] == "journey":
            continue  # private modules come with their parents; the lab's pytest plugins must
            # be imported by pytest itself, which rewrites their asserts
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
        "journey.pytest_plugin",  # by name: pytest imports it, rewriting its asserts
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
    for plugin in UNUSED_BUILTIN_PLUGINS:
        args += ["-p", f"no:{plugin}"]
    return args


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
    reporter = _Reporter(sink, spec, set(sys.modules))
    plugins = [reporter, *(importlib.import_module(name) for name in PLUGINS)]
    exit_code = pytest.main(pytest_args(spec), plugins=plugins)
    reporter.done(int(exit_code))  # if the session never finished (a usage error...)
    return 0


def _timeout_of(item: pytest.Item) -> float | None:
    marker = item.get_closest_marker("timeout")
    if marker is not None:
        value = marker.args[0] if marker.args else marker.kwargs.get("timeout")
        return float(value) if value is not None else None
    option = item.config.getoption("timeout", None)
    return float(option) if option else None


class ImportTimeout(Exception):
    """Importing a test module (and the lesson code it loads) ran past its time limit."""


class _Reporter:
    """The child's pytest plugin: turns pytest's hooks into events for the parent.

    A test's phase reports go out together with the next test's start, in one write (the last
    ones when the session ends): every write wakes the parent, which on a busy machine costs
    more than a quick test itself. After a test of a file
    times out, the file's other tests are not run (they would most likely hang too): each is
    reported as failed, "not run".
    """

    def __init__(self, sink: _Sink, spec: RunSpec, modules_before: set[str]) -> None:
        self.sink = sink
        self.spec = spec
        self.modules_before = modules_before
        self.said_done = False
        self.timeouts: dict[str, float | None] = {}
        self.pending: list[dict[str, Any]] = []
        self.timed_out_in: dict[str, str] = {}  # file -> the test that timed out there
        self.file_seconds: dict[str, float] = {}  # the time its tests took, per file

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        if self.spec.first:
            # sorted() is stable: the hinted tests move to the front, the rest keep their order
            items[:] = sorted(items, key=lambda item: item.nodeid not in self.spec.first)

    @pytest_hookimpl(wrapper=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Any:
        """Imports each test module under a time limit: an endless loop at the top level of a
        module (the learner's, or the test's) becomes an error that names its line."""
        import pytest

        if not isinstance(collector, pytest.Module) or not hasattr(signal, "SIGALRM"):
            return (yield)
        limit = self.spec.import_timeout

        def interrupt(signum: int, frame: Any) -> None:
            raise ImportTimeout(f"importing took longer than {limit:g} s (an endless loop?)")

        previous = signal.signal(signal.SIGALRM, interrupt)
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            return (yield)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def pytest_runtest_protocol(self, item: pytest.Item) -> None:
        limit = _timeout_of(item)
        self.timeouts[item.nodeid] = limit
        # the reports of the test before go in the same write: one wake-up of the parent per test
        event = {"event": "start", "nodeid": item.nodeid, "timeout": limit}
        self.sink.emit({**event, "reports": self.flushed()})

    def flushed(self) -> list[dict[str, Any]]:
        """The reports not sent yet, which are sent now."""
        pending, self.pending = self.pending, []
        return pending

    @pytest_hookimpl(hookwrapper=True)
    def pytest_sessionfinish(self, exitstatus: int) -> Any:
        if self.pending:  # the last test's reports
            self.sink.emit({"event": "reports", "reports": self.flushed()})
        yield
        # Every test and fixture is done: the parent may end this process now, without
        # waiting for pytest to unconfigure itself (garbage collections, plugins' clean-ups).
        # Not when pytest's own report is shown (it is printed after this), nor when this
        # process started an embedded server, which it stops as it unconfigures.
        from journey import provision

        if not self.spec.verbose and not provision.holding():
            self.done(int(exitstatus))

    def done(self, exit_code: int) -> None:
        if self.said_done:
            return
        self.said_done = True
        event = {
            "event": "done",
            "exit_code": exit_code,
            "modules": _warmable(self.modules_before),
            "file_seconds": self.file_seconds,
        }
        self.sink.emit(event)

    @pytest_hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        file = item.nodeid.split("::", 1)[0]
        if file in self.timed_out_in:
            import pytest

            # failing the setup keeps pytest's own book-keeping of fixtures right
            pytest.fail(f"{NOT_RUN}{self.timed_out_in[file]} timed out before it", pytrace=False)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        file = report.nodeid.split("::", 1)[0]
        self.file_seconds[file] = round(self.file_seconds.get(file, 0.0) + report.duration, 4)
        text = report.longreprtext if report.failed else ""
        timed_out = "Timeout (>" in text and "pytest-timeout" in text
        not_run = report.when == "setup" and NOT_RUN in text
        message = (
            f"{NOT_RUN}{text.split(NOT_RUN, 1)[1].strip()}" if not_run else short_message(report)
        )
        if timed_out:
            limit = self.timeouts.get(report.nodeid) or DEFAULT_TEST_TIMEOUT
            name = report.nodeid.split("::", 1)[-1]
            message = f"timed out after {limit:g} s in {name}"
            self.timed_out_in.setdefault(report.nodeid.split("::", 1)[0], name)
        if report.when != "call" and report.outcome == "passed":
            return  # a setup or teardown that went well says nothing the call does not
        compact = {"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome}
        flags = {
            "message": message,
            "not_implemented": "NotImplementedError" in text,
            "timed_out": timed_out,
            "not_run": not_run,
        }
        # only what is set: a lesson of 200 tests sends a few kilobytes, not a few hundred
        self.pending.append(compact | {key: value for key, value in flags.items() if value})

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if not report.nodeid.endswith(".py"):
            return
        if report.failed:
            message = short_message(report)
            self.sink.emit({"event": "collect_error", "nodeid": report.nodeid, "message": message})
        else:
            self.sink.emit({"event": "collected", "nodeid": report.nodeid})


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
    raise SystemExit(spawned_main())
