"""The child-process test runner: results streamed per test, limits enforced, nothing left."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

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


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")
def test_runs_at_once_keep_their_own_limits_and_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One child hangs beyond reach while another works: the hung one is killed at its limit,
    the other's results are whole, and each result comes back in the order of the specs."""
    monkeypatch.setattr(testrun, "GRACE_SECONDS", 0.5)
    deaf = tmp_path / "test_deaf.py"
    deaf.write_text(DEAF, encoding="utf-8")
    good = tmp_path / "test_good.py"
    good.write_text(
        "def test_one():\n    assert True\n\ndef test_two():\n    assert 2 + 2 == 5\n",
        encoding="utf-8",
    )
    specs = [RunSpec(files=(str(deaf),)), RunSpec(files=(str(good),))]
    started: set[str] = set()

    def listener(event: dict[str, Any]) -> None:
        if event["event"] == "start":
            started.add(event["nodeid"].split("::")[-1])

    hung, done = TestRunner().run_many(
        specs,
        listener=lambda e: (
            started.add(e["nodeid"].split("::")[-1]) if e["event"] == "start" else None
        ),
        workers=2,
    )
    assert hung.killed_in.endswith("::test_deaf_to_its_time_limit"), hung
    assert not done.killed_in, done
    assert not done.crashed, done
    assert [(t.name, t.outcome) for t in done.tests] == [
        ("test_one", "passed"),
        ("test_two", "failed"),
    ]
    [seconds] = done.file_seconds.values()  # the time its tests took (one file)
    assert seconds > 0
    assert started == {"test_deaf_to_its_time_limit", "test_one", "test_two"}  # both listened to


def test_runs_at_once_give_what_runs_one_by_one_give(tmp_path: Path) -> None:
    files = []
    for number in range(3):
        test_file = tmp_path / f"test_file{number}.py"
        test_file.write_text(
            f"def test_passes():\n    pass\n\ndef test_fails():\n    assert {number} == -1\n",
            encoding="utf-8",
        )
        files.append(str(test_file))
    specs = [RunSpec(files=(file,)) for file in files]

    def outcomes(results: list[testrun.RunResult]) -> list[list[tuple[str, str]]]:
        return [[(t.nodeid, t.outcome) for t in r.tests] for r in results]

    one_by_one = TestRunner().run_many(specs, workers=1)
    at_once = TestRunner().run_many(specs, workers=3)
    assert outcomes(at_once) == outcomes(one_by_one)
    assert all(len(r.tests) == 2 for r in at_once)


def test_runs_at_once_really_run_side_by_side(tmp_path: Path) -> None:
    """Each file waits for a sign from the other: one by one, the first would wait in vain."""
    for me, other in (("a", "b"), ("b", "a")):
        (tmp_path / f"test_{me}.py").write_text(
            "import time\nfrom pathlib import Path\n\n"
            f"def test_meets_the_other():\n"
            f"    folder = Path({str(tmp_path)!r})\n"
            f"    (folder / 'here_{me}').touch()\n"
            "    deadline = time.monotonic() + 5\n"
            f"    while not (folder / 'here_{other}').exists():\n"
            "        assert time.monotonic() < deadline, 'the other run never started'\n"
            "        time.sleep(0.01)\n",
            encoding="utf-8",
        )
    specs = [RunSpec(files=(str(tmp_path / f"test_{name}.py"),)) for name in "ab"]
    results = TestRunner().run_many(specs, workers=2)
    assert [[t.outcome for t in r.tests] for r in results] == [["passed"], ["passed"]]
