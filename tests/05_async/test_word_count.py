"""05.4 word_count: work shared across processes through queues, run as a script with "spawn"."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from journey.targets import load

word_count = load(__file__, "word_count")

RUN_SECONDS = 20  # a run on a busy machine takes a few seconds; a hung one is stopped here
# the lab's time limit for this test: above RUN_SECONDS, so that the test stops a hung run itself
slow = pytest.mark.timeout(RUN_SECONDS + 10)


def _stop(process: subprocess.Popen) -> None:
    """Kills the script and every worker it started (they share its process group)."""
    if process.poll() is None or os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.name == "posix":
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
    process.communicate()


@pytest.fixture
def run_script() -> Iterator[Callable[..., tuple[int, dict]]]:
    """Runs the module as a script (``python word_count.py ...``, "spawn" by default) and
    returns (exit status, the JSON it printed). A run still going after RUN_SECONDS is stopped,
    workers included; so is anything left when the test ends, whatever happened."""
    started: list[subprocess.Popen] = []

    def run(*args: str) -> tuple[int, dict]:
        # The script's workers count with count_words: until it exists, fail here, without
        # starting an interpreter for nothing.
        word_count.count_words("")
        options: dict = {"start_new_session": True} if os.name == "posix" else {}
        process = subprocess.Popen(
            [sys.executable, word_count.__file__, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **options,
        )
        started.append(process)
        try:
            out, err = process.communicate(timeout=RUN_SECONDS)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"word_count.py did not finish in {RUN_SECONDS} s. Does every worker get its "
                "own None? Are the answers read BEFORE the workers are joined (a worker whose "
                "answer nobody reads never ends)? Does an unreadable file still get an answer?"
            ) from None
        lines = out.strip().splitlines()
        assert lines, (
            f"word_count.py printed nothing (exit status {process.returncode}):\n{err[-2000:]}"
        )
        return process.returncode, json.loads(lines[-1])

    try:
        yield run
    finally:
        for process in started:
            _stop(process)


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_count_words_lowercases_and_keeps_inner_apostrophes() -> None:
    assert word_count.count_words("The cat's hat, the CAT.") == Counter(
        {"the": 2, "cat's": 1, "hat": 1, "cat": 1}
    ), "words are lowercased (WORD.findall(text.lower())): 'The' and 'the' are one word"
    assert word_count.count_words("") == Counter()


def test_the_worker_answers_every_path_and_stops_at_none(tmp_path: Path) -> None:
    good = write(tmp_path, "good.txt", "one two two")
    missing = str(tmp_path / "missing.txt")
    tasks: queue.Queue = queue.Queue()
    results: queue.Queue = queue.Queue()
    for item in (good, missing, good, None, "never taken"):
        tasks.put(item)
    raised: list[BaseException] = []

    def run() -> None:
        try:
            word_count.worker(tasks, results)
        except BaseException as error:
            raised.append(error)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(timeout=5)
    assert not runner.is_alive(), "the worker must return once it takes None from the tasks"
    assert not raised, f"the worker raised {raised[0]!r}: one bad file must not end a worker"
    answers = [results.get_nowait() for _ in range(results.qsize())]
    assert [path for path, _ in answers] == [good, missing, good], "one answer per path, in order"
    assert answers[0][1] == Counter({"two": 2, "one": 1})
    assert isinstance(answers[1][1], str), "an unreadable file is answered with a message"
    assert answers[1][1].startswith("FileNotFoundError: "), (
        f"the message is '<ExceptionName>: <message>', got {answers[1][1]!r}"
    )
    assert tasks.get_nowait() == "never taken", "after None the worker takes nothing more"


@slow
def test_the_script_counts_every_file_on_worker_processes(tmp_path: Path, run_script) -> None:
    files = [
        write(tmp_path, "a.txt", "the cat sat on the mat"),
        write(tmp_path, "b.txt", "The dog sat. The DOG ran!"),
        write(tmp_path, "c.txt", "a cat, a dog, a bird"),
        write(tmp_path, "d.txt", ""),
    ]
    status, output = run_script("--processes", "3", "--top", "4", *files)
    assert output["errors"] == {}
    assert status == 0, "every file was counted: exit status 0"
    assert output["top"] == [["the", 4], ["a", 3], ["dog", 3], ["cat", 2]], (
        "the counts of all files add up; most frequent first, ties alphabetical"
    )


@slow
def test_one_process_is_enough_and_an_unreadable_file_is_reported(
    tmp_path: Path, run_script
) -> None:
    files = [write(tmp_path, "a.txt", "red red blue"), str(tmp_path / "missing.txt")]
    status, output = run_script("--processes", "1", *files)
    assert output["top"] == [["red", 2], ["blue", 1]], "the readable file is still counted"
    assert list(output["errors"]) == [files[1]], "the missing file is reported by its path"
    assert output["errors"][files[1]].startswith("FileNotFoundError"), output["errors"]
    assert status == 1, "a file that could not be read: exit status 1"


@slow
def test_large_answers_from_many_workers(tmp_path: Path, run_script) -> None:
    # Each file holds 20 000 different words: its Counter pickles to far more than a pipe
    # holds, so a worker stays alive until the parent has read its answer.
    files = [
        write(tmp_path, f"big{n}.txt", " ".join(f"w{n}x{i}" for i in range(20_000)) + " common")
        for n in range(4)
    ]
    status, output = run_script("--processes", "4", "--top", "1", *files)
    assert status == 0
    assert output["top"] == [["common", 4]]


@pytest.mark.parametrize("processes", ["0", "-1"])
def test_no_processes_is_refused(tmp_path: Path, processes: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the type is the contract
        word_count.count_files([write(tmp_path, "a.txt", "x")], processes=int(processes))
