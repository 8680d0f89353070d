"""05.4 Work shared across processes: a word count with multiprocessing (core).

Counting the words of many files is CPU-bound once the files are read, so it runs on several
processes. Processes share no memory: the parent hands work out through a task queue, and
the workers send their answers back through a result queue (both pickle what goes through)::

    context = multiprocessing.get_context("spawn")
    tasks, results = context.Queue(), context.Queue()
    process = context.Process(target=worker, args=(tasks, results))
    process.start()  ...  process.join()

It is a script as well as a module; the tests run it as one::

    uv run python exercises/05_async/word_count.py --processes 2 --top 5 a.txt b.txt

With the "spawn" start method (the default on macOS and Windows; Linux uses "fork", and
"forkserver" from Python 3.14) every worker is a fresh interpreter that imports this file
again, so starting the processes must happen only under ``if __name__ == "__main__":``
(given at the bottom: keep it).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing  # noqa: F401 - you will need it
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path  # noqa: F401 - and this, in the worker
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
    """The words of `text`, lowercased: ``WORD.findall(text.lower())`` counted.

    ``count_words("The cat's hat, the CAT.") == Counter({"the": 2, "cat's": 1, "hat": 1,
    "cat": 1})``
    """
    raise NotImplementedError("05.4: lowercase, find the words, count them")


def worker(tasks: Any, results: Any) -> None:
    """Runs in each worker process, until it takes None from `tasks`.

    For each path (a str) it takes: read the file (UTF-8) and put ``(path, count_words(text))``
    on `results`; if the file cannot be read (OSError, UnicodeDecodeError), put
    ``(path, "<ExceptionName>: <message>")`` instead and go on with the next path. One bad
    file never ends a worker: the parent waits for an answer for every path.
    (`tasks` and `results` are multiprocessing queues; a test may hand it queue.Queue ones.)
    """
    raise NotImplementedError("05.4: loop on tasks.get() until None, put an answer per path")


def count_files(
    paths: Sequence[str], *, processes: int = 2, start_method: StartMethod = "spawn"
) -> WordCount:
    """Counts the words of every file on worker processes fed by one task queue.

    - Start ``min(processes, len(paths))`` worker processes (at least 1) from
      ``multiprocessing.get_context(start_method)``, each running `worker`.
    - Put every path on the task queue, then one None per worker: each worker stops after
      taking exactly one.
    - Take exactly one answer per path from the result queue and merge them: Counters add up
      into `words`, messages go into `errors`.
    - Only then join the workers. (A process that put a large answer on a queue does not end
      until the answer has been read: joining before reading can wait forever.)
    - When it returns (or raises), no worker process is left running.
    - `processes < 1` or an unknown start method is a ValueError (`processes=1` is fine).
    """
    raise NotImplementedError("05.4: queues, workers, tasks, sentinels, answers, join")


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (given): prints {"top": [[word, count], ...], "errors": {...}} as
    JSON, the most frequent words first (ties alphabetical); exit status 0 when every file was
    counted, 1 when some could not be read."""
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
