"""Iterators and generators: the iteration protocol, yield, generator expressions, itertools,
and a lazy pipeline that handles 200,000 lines in a few kilobytes.

Run: uv run python lessons/01_fundamentals/examples/02_iterators_and_generators.py
"""

from __future__ import annotations

import itertools
import sys
import tracemalloc
from collections.abc import Iterable, Iterator

# -- the protocol: iter() gives an iterator, next() pulls one item, StopIteration ends it ---
colours = ["red", "green"]
it = iter(colours)
print("next:", next(it), next(it), "| then the default:", next(it, "<exhausted>"))
print("an iterator is its own iterator:", iter(it) is it)
print("a list is not (each iter() starts afresh):", iter(colours) is colours)


# -- a generator function: `yield` pauses it; it resumes on the next next() -----------------
def countdown(n: int) -> Iterator[int]:
    print(f"  (countdown starts at {n})")  # runs at the first next(), not at the call
    while n > 0:
        yield n
        n -= 1
    print("  (countdown done)")


gen = countdown(3)
print("calling countdown(3) ran nothing yet:", type(gen).__name__)
print("pulled:", next(gen))
print("the rest:", list(gen))
print("a second pass finds nothing, a generator runs once:", list(gen))

# -- generator expressions: like a list comprehension, but lazy ----------------------------
squares_list = [n * n for n in range(1_000_000)]
squares_gen = (n * n for n in range(1_000_000))
print(f"list of a million squares: {sys.getsizeof(squares_list):,} bytes (the list alone)")
print(f"generator of the same:     {sys.getsizeof(squares_gen):,} bytes")
print("sum() pulls them one at a time:", sum(n * n for n in range(1_000_000)))
del squares_list


# -- yield from delegates to another iterable; try/finally runs when a generator is closed --
def numbered(lines: Iterable[str]) -> Iterator[str]:
    try:
        for number, line in enumerate(lines, start=1):
            yield f"{number}: {line}"
    finally:  # runs when the loop ends, AND when the consumer stops early (close())
        print("  (numbered cleaned up)")


def both(first: Iterable[str], second: Iterable[str]) -> Iterator[str]:
    yield from first
    yield from second


reader = numbered(both(["alpha", "beta"], ["gamma"]))
print("first line only:", next(reader))
reader.close()  # the consumer is done early: GeneratorExit is raised at the paused yield

# -- itertools: building blocks for lazy pipelines -----------------------------------------
print("islice(count(10), 3):", list(itertools.islice(itertools.count(10), 3)))
print("chain:", list(itertools.chain([1, 2], (3, 4))))
print("accumulate (running total):", list(itertools.accumulate([5, 10, 20])))
print("pairwise:", list(itertools.pairwise("abcd")))
print("takewhile(< 3):", list(itertools.takewhile(lambda n: n < 3, [1, 2, 3, 1])))
events = ["GET", "GET", "POST", "GET"]  # groupby groups *adjacent* equal keys: sort first
print("groupby unsorted:", [(key, len(list(group))) for key, group in itertools.groupby(events)])
print(
    "groupby sorted:  ",
    [(key, len(list(group))) for key, group in itertools.groupby(sorted(events))],
)


# -- a lazy pipeline: each stage pulls one item from the stage before -----------------------
def log_lines(count: int) -> Iterator[str]:
    """A large input made on the fly, one line at a time: never a list in memory."""
    for i in range(count):
        yield f"GET /books/{i % 97} {500 if i % 1000 == 0 else 200} {i % 250}ms"


def parse(lines: Iterable[str]) -> Iterator[tuple[str, int, int]]:
    for line in lines:
        _, path, status, duration = line.split()
        yield path, int(status), int(duration.removesuffix("ms"))


tracemalloc.start()
errors = (path for path, status, _ in parse(log_lines(200_000)) if status >= 500)
first_five = list(itertools.islice(errors, 5))  # pulls only as many lines as it needs
total_errors = 5 + sum(1 for _ in errors)  # the same generator continues where it stopped
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print("first errors:", first_five)
print(f"{total_errors} errors in 200,000 lines; peak memory {peak / 1024:.0f} KiB")
