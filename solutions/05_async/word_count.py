"""05.4 Work shared across processes: a word count with multiprocessing (core).

Counting the words of many files is CPU-bound once the files are read, so it runs on several
processes. Processes share no memory: the parent hands work out through a task queue, and
the workers send their answers back through a result queue (both pickle what goes through).

It is a script as well as a module::

    uv run python solutions/05_async/word_count.py --processes 2 --top 5 a.txt b.txt

With the "spawn" start method (the default on macOS and Windows; Linux uses "fork", and
"forkserver" from Python 3.14) every worker is a fresh interpreter that imports this file
again, so starting the processes must happen only under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
StartMethod = Literal["spawn", "fork", "forkserver"]
START_METHODS: tuple[StartMethod, ...] = ("spawn", "fork", "forkserver")


@dataclass
class WordCount:
    """`words`: every word and how often it appears in all the files that could be read.
    `errors`: path -> "<ExceptionName>: <message>" for each file that could not be read."""

    words: Counter[str] = field(default_factory=Counter)
    errors: dict[str, str] = field(default_factory=dict)


def count_words(text: str) -> Counter[str]:
    """The words of `text`, lowercased: letters and digits, with inner apostrophes kept."""
    return Counter(WORD.findall(text.lower()))


def worker(tasks: Any, results: Any) -> None:
    """Runs in each worker process: takes paths from `tasks` until it takes None; for each,
    puts ``(path, Counter)`` on `results`, or ``(path, "<ExceptionName>: <message>")``
    when the file cannot be read. One bad file never ends the worker."""
    while (path := tasks.get()) is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            results.put((path, f"{type(error).__name__}: {error}"))
        else:
            results.put((path, count_words(text)))


def count_files(
    paths: Sequence[str], *, processes: int = 2, start_method: StartMethod = "spawn"
) -> WordCount:
    """Counts the words of every file on worker processes fed by one task queue."""
    if processes < 1:
        raise ValueError(f"processes must be at least 1, got {processes}")
    if start_method not in START_METHODS:
        raise ValueError(f"start_method must be one of {START_METHODS}, got {start_method!r}")
    # typed loosely: typeshed gives a context picked at run time no Process attribute
    context: Any = multiprocessing.get_context(start_method)
    tasks = context.Queue()
    results = context.Queue()
    workers = [
        context.Process(target=worker, args=(tasks, results), name=f"word-count-{n}")
        # never more workers than files: a process costs a whole interpreter
        for n in range(max(1, min(processes, len(paths))))
    ]
    for process in workers:
        process.start()
    total = WordCount()
    try:
        for path in paths:
            tasks.put(str(path))
        for _ in workers:
            tasks.put(None)  # one "stop" per worker: each takes exactly one
        # Read every answer BEFORE joining: a worker that put a large answer on the queue
        # does not exit until that answer has been read, so joining first can hang forever.
        for _ in paths:
            path, answer = results.get()
            if isinstance(answer, str):
                total.errors[path] = answer
            else:
                total.words.update(answer)
        for process in workers:
            process.join()
    finally:
        for process in workers:  # only after an error: nothing is left running
            if process.is_alive():
                process.terminate()
                process.join()
        tasks.close()
        results.close()
    return total


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: prints {"top": [[word, count], ...], "errors": {path: message}} as
    JSON; exit status 0 when every file was counted, 1 when some could not be read."""
    parser = argparse.ArgumentParser(description="Count the words of files, in parallel.")
    parser.add_argument("files", nargs="+")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--start-method", choices=START_METHODS, default="spawn")
    args = parser.parse_args(argv)
    try:
        result = count_files(args.files, processes=args.processes, start_method=args.start_method)
    except ValueError as error:
        parser.error(str(error))
    top = sorted(result.words.items(), key=lambda item: (-item[1], item[0]))[: args.top]
    json.dump({"top": top, "errors": result.errors}, sys.stdout)
    print()
    return 1 if result.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
