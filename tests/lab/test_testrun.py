"""The child-process test runner: results streamed per test, limits enforced, nothing left."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from journey import testrun
from journey.testrun import RunSpec, TestRunner

DEAF = """
import signal
import time

import pytest


@pytest.mark.timeout(1)
def test_deaf_to_its_time_limit():
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])  # like a hang in C code
    while True:
        time.sleep(0.01)


def test_after_it():
    pass
"""


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")
def test_a_test_deaf_to_its_limit_is_killed_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(testrun, "GRACE_SECONDS", 0.5)
    test_file = tmp_path / "test_deaf.py"
    test_file.write_text(DEAF, encoding="utf-8")
    result = TestRunner().run(RunSpec(files=(str(test_file),), import_timeout=30))
    assert result.killed_in.endswith("::test_deaf_to_its_time_limit"), result
    [hung] = [t for t in result.tests if t.name == "test_deaf_to_its_time_limit"]
    assert hung.outcome == "failed"
    assert hung.timed_out
    assert hung.message.startswith("timed out after 1 s in test_deaf_to_its_time_limit")
    assert "its process was ended" in hung.message


def test_results_are_reported_test_by_test(tmp_path: Path) -> None:
    test_file = tmp_path / "test_some.py"
    test_file.write_text(
        "import pytest\n\n"
        "def test_good():\n    assert True\n\n"
        "def test_bad():\n    assert 1 == 2, 'one is not two'\n\n"
        "def test_skipped():\n    pytest.skip('not today')\n",
        encoding="utf-8",
    )
    events: list[str] = []
    result = TestRunner().run(
        RunSpec(files=(str(test_file),)), listener=lambda e: events.append(e["event"])
    )
    outcomes = {t.name: (t.outcome, t.message) for t in result.tests}
    assert outcomes["test_good"] == ("passed", "")
    assert outcomes["test_bad"][0] == "failed"
    assert "one is not two" in outcomes["test_bad"][1]
    assert outcomes["test_skipped"] == ("skipped", "not today")
    assert events.count("start") == 3
    assert events[-1] == "done"


def test_a_spawned_child_reports_the_same(tmp_path: Path) -> None:
    test_file = tmp_path / "test_one.py"
    test_file.write_text("def test_one():\n    assert True\n", encoding="utf-8")
    result = TestRunner(fork=False).run(RunSpec(files=(str(test_file),)))
    assert [(t.name, t.outcome) for t in result.tests] == [("test_one", "passed")]
    assert not result.crashed


def test_the_spec_travels_as_json() -> None:
    spec = RunSpec(
        files=("a.py",),
        substitutes=(testrun.Substitute("01_x", "m", "/p.py"),),
        first=("a.py::t",),
        env={"K": "V"},
    )
    assert RunSpec.from_json(spec.to_json()) == spec


@pytest.mark.skipif(sys.platform != "linux", reason="forks only on Linux")
def test_forking_is_refused_while_other_threads_run() -> None:
    import threading

    before = testrun.can_fork()  # False if an earlier test left a thread running
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not testrun.can_fork(), "fork with threads running would copy their locks"
    finally:
        stop.set()
        thread.join()
    assert testrun.can_fork() == before
