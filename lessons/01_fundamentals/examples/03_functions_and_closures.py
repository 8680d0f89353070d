"""Functions: defaults, *args/**kwargs, keyword-only parameters, closures and decorators.

Run: uv run python lessons/01_fundamentals/examples/03_functions_and_closures.py
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


# -- defaults are evaluated ONCE, when `def` runs ------------------------------------------
def append_bad(item: int, bucket: list[int] = []) -> list[int]:  # noqa: B006 (the point)
    bucket.append(item)
    return bucket


def append_good(item: int, bucket: list[int] | None = None) -> list[int]:
    bucket = [] if bucket is None else bucket  # a fresh list on every call
    bucket.append(item)
    return bucket


print("mutable default:", append_bad(1), append_bad(2), "<- the same list, shared!")
print("None default:   ", append_good(1), append_good(2))


# -- *args, **kwargs, and keyword-only parameters after `*` --------------------------------
def describe(*args: object, sep: str = ", ", **kwargs: object) -> str:
    positional = sep.join(map(str, args))
    named = sep.join(f"{key}={value!r}" for key, value in kwargs.items())
    return f"args=({positional}) kwargs=({named})"


print(describe(1, 2, 3, colour="red", size=10))
numbers = [4, 5]
options = {"sep": "; ", "colour": "blue"}  # "sep" fills the keyword-only parameter
print(describe(*numbers, **options), "<- * and ** unpack a list and a dict at the call site")


# -- closures: an inner function remembers the variables of the scope it was made in ------
def make_counter(start: int = 0) -> Callable[[], int]:
    count = start

    def step() -> int:
        nonlocal count  # rebind the enclosing variable instead of creating a local one
        count += 1
        return count

    return step


tick = make_counter(10)
print("closure counter:", tick(), tick(), tick())


# -- decorators: a function that takes a function and returns a replacement ----------------
def timed(func: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(func)  # keep __name__, __doc__, and set __wrapped__
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            print(f"  {func.__name__} took {elapsed_ms:.2f} ms")

    return wrapper


def retry(times: int) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A decorator *factory*: `@retry(3)` calls retry(3), which returns the decorator."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            for attempt in range(1, times + 1):
                try:
                    return func(*args, **kwargs)
                except ConnectionError as error:
                    print(f"  attempt {attempt} failed: {error}")
            raise ConnectionError(f"{func.__name__} failed {times} times")

        return wrapper

    return decorate


failures = iter([True, True, False])


@timed
@retry(3)
def fetch() -> str:
    """Pretends to call a flaky service."""
    if next(failures):
        raise ConnectionError("connection refused")
    return "payload"


print("decorated call ->", fetch())
print("name and doc survive decoration:", fetch.__name__, "-", fetch.__doc__)


# -- functools.lru_cache: the standard library's memoizing decorator -----------------------
@functools.lru_cache(maxsize=256)
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


print("fib(90) =", fib(90), fib.cache_info())
