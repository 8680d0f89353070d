"""Counts the requests, then looks for the slowest in a second pass over a one-shot iterator.

01.2 A lazy generator pipeline over a large log (warm-up).

An access log can be far larger than memory. Each stage below takes an iterable and gives back
an iterator: it pulls one item from the stage before, does its part, and yields. Nothing is
read before it is needed and nothing is kept after it is used, so the chained stages handle a
file of any size in a small, fixed amount of memory:

    requests = parse_requests(read_lines(path))
    slow = (r for r in requests if r.duration_ms >= 1000)
    for batch in batched(slow, 100):
        alert(batch)

A log line looks like ``2025-01-02T03:04:05Z GET /books/7 200 35ms``.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TypeVar

T = TypeVar("T")

LINE_RE = re.compile(
    r"(?P<time>\S+) (?P<method>[A-Z]+) (?P<path>/\S*) (?P<status>[1-5]\d\d) (?P<ms>\d+)ms"
)


class Request(NamedTuple):
    """One request of the log."""

    method: str
    path: str
    status: int
    duration_ms: int


@dataclass
class LogSummary:
    """What `summarize` finds in one pass: how many requests, how many per status class
    ("2xx", "4xx", "5xx"...; only the classes that occur), and the slowest requests."""

    requests: int = 0
    by_status_class: dict[str, int] = field(default_factory=dict)
    slowest: list[Request] = field(default_factory=list)


def read_lines(path: Path | str) -> Iterator[str]:
    """The lines of the UTF-8 text file at `path`, one at a time, without their line ending.

    A generator function: open the file *inside* it with `with`, so that the file is closed
    when the lines run out and also when the consumer stops early and the generator is closed
    (`gen.close()`, or the generator being garbage collected). Never read the whole file
    (`read()`, `readlines()`, `read_text()`): iterate over the file object.
    """
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            yield line.rstrip("\r\n")


def parse_requests(lines: Iterable[str]) -> Iterator[Request]:
    """The requests of `lines`, lazily, in order.

    A line that does not match LINE_RE in full (blank, truncated, garbage) is skipped. Lazy
    means: to give the next request, read only the lines up to and including that request's
    line, and never more; an infinite iterable of lines works.
    """
    for line in lines:
        match = LINE_RE.fullmatch(line.strip())
        if match is None:
            continue
        yield Request(match["method"], match["path"], int(match["status"]), int(match["ms"]))


def batched(items: Iterable[T], size: int) -> Iterator[tuple[T, ...]]:
    """The items in tuples of `size`, in order; the last tuple may be shorter, and no items
    give no tuples. `itertools.batched` does this from Python 3.12.

    `size` below 1 is a ValueError whose message mentions "size", raised when `batched` is
    called, not at the first `next()`: a generator function's body only starts running at
    the first `next()`, so check first and then return a generator.
    """
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    return _batches(iter(items), size)


def _batches(items: Iterator[T], size: int) -> Iterator[tuple[T, ...]]:
    while batch := tuple(_take(items, size)):
        yield batch


def _take(items: Iterator[T], count: int) -> Iterator[T]:
    for _ in range(count):
        try:
            yield next(items)
        except StopIteration:
            return


def slowest(requests: Iterable[Request], n: int) -> list[Request]:
    """The `n` slowest requests, slowest first; equal durations keep log order.

    Memory stays bounded by `n`, however many requests there are: keep the n slowest seen
    so far (`heapq.nlargest` does), never a list of them all. `n` of 0 gives []; a negative
    `n` is a ValueError whose message mentions "n".
    """
    if n < 0:
        raise ValueError(f"n must be zero or more, got {n}")
    return heapq.nlargest(n, requests, key=lambda request: request.duration_ms)


def summarize(requests: Iterable[Request], *, slowest_n: int = 3) -> LogSummary:
    """A LogSummary of `requests` in a single pass.

    `requests` may be an iterator that can be read only once, so every figure is gathered in
    the same loop: counting first and then looking for the slowest would find nothing left.
    `slowest` holds at most `slowest_n` requests, as `slowest()` orders them, and memory stays
    bounded by it; a negative `slowest_n` is a ValueError whose message mentions "slowest_n".
    """
    if slowest_n < 0:
        raise ValueError(f"slowest_n must be zero or more, got {slowest_n}")
    classes: Counter[str] = Counter()
    kept: list[tuple[int, int, Request]] = []  # a min-heap of (duration, -position, request)
    total = 0
    for position, request in enumerate(requests):
        total += 1
        classes[f"{request.status // 100}xx"] += 1
        entry = (request.duration_ms, -position, request)
        if len(kept) < slowest_n:
            heapq.heappush(kept, entry)
        elif slowest_n and entry > kept[0]:
            heapq.heapreplace(kept, entry)
    ranked = slowest(requests, slowest_n)  # a second pass: an iterator is empty by now
    return LogSummary(requests=total, by_status_class=dict(classes), slowest=ranked)
