"""01.4 A decorator with state: a bounded memoize with LRU eviction (core).

`@memoize(maxsize=...)` remembers a function's results by its arguments, like
`functools.lru_cache`, and forgets the least recently used result when it is full.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, NamedTuple, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class CacheInfo(NamedTuple):
    """Counters of a memoized function, as `cache_info()` returns them."""

    hits: int
    misses: int
    maxsize: int
    currsize: int


class Memoized(Generic[P, R]):
    """A function wrapped by `memoize`: call it like the original.

    - Results are cached by the call's arguments: positional args plus keyword args, where
      keyword order does not matter (`f(a=1, b=2)` and `f(b=2, a=1)` are the same call), but
      `f(1)` and `f(x=1)` are different keys (as in functools.lru_cache).
    - A hit moves the entry to "most recently used"; a miss calls the function, stores the
      result and, when more than `maxsize` results are stored, evicts the least recently used.
    - An exception from the function propagates and nothing is cached for that call.
    - Unhashable arguments (a list, a dict) raise TypeError naming the function and saying the
      arguments must be "hashable", without calling the function.
    - `cache_info()` returns CacheInfo(hits, misses, maxsize, currsize);
      `cache_clear()` forgets every result and resets the counters.
    - It looks like the function it wraps: same `__name__`, `__doc__`, and `__wrapped__`.
    """

    def __init__(self, func: Callable[P, R], maxsize: int) -> None:
        raise NotImplementedError("01.4: keep func, maxsize, the results and the counters")

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        raise NotImplementedError("01.4: return the cached result or call func and store it")

    def cache_info(self) -> CacheInfo:
        raise NotImplementedError("01.4: return CacheInfo(hits, misses, maxsize, currsize)")

    def cache_clear(self) -> None:
        raise NotImplementedError("01.4: forget every result and reset the counters")


def memoize(maxsize: int = 128) -> Callable[[Callable[P, R]], Memoized[P, R]]:
    """A decorator factory: `@memoize(maxsize=2)` caches at most two results.

    `maxsize` below 1 is a ValueError that mentions maxsize, raised when `memoize(...)` is
    called (before decorating).
    """
    raise NotImplementedError("01.4: return a decorator that wraps a function in Memoized")
