"""Lets hash() fail with its own message, which names neither the function nor the cache.

01.4 A decorator with state: a bounded memoize with LRU eviction (core).

`@memoize(maxsize=...)` remembers a function's results by its arguments, like
`functools.lru_cache`, and forgets the least recently used result when it is full.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, NamedTuple, ParamSpec, TypeVar

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
    - Unhashable arguments (a list, a dict) raise TypeError naming the function and the
      problem, without calling the function.
    - `cache_info()` returns CacheInfo(hits, misses, maxsize, currsize);
      `cache_clear()` forgets every result and resets the counters.
    - It looks like the function it wraps: same `__name__`, `__doc__`, and `__wrapped__`.
    """

    def __init__(self, func: Callable[P, R], maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self._func = func
        self._maxsize = maxsize
        # OrderedDict remembers use order: the first entry is the least recently used.
        self._results: OrderedDict[Hashable, R] = OrderedDict()
        self._hits = 0
        self._misses = 0
        # Copies __name__, __doc__, __module__, __qualname__ and sets __wrapped__.
        functools.update_wrapper(self, func)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        key = self._key(args, kwargs)
        if key in self._results:
            self._hits += 1
            self._results.move_to_end(key)
            return self._results[key]
        self._misses += 1
        result = self._func(*args, **kwargs)  # may raise: then nothing is stored
        self._results[key] = result
        if len(self._results) > self._maxsize:
            self._results.popitem(last=False)
        return result

    def _key(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
        # Sorting makes keyword order irrelevant; the tuple keeps positional order.
        key = (args, tuple(sorted(kwargs.items())))
        try:
            hash(key)
        except TypeError as error:
            raise TypeError(f"arguments must be hashable: {error}") from error
        return key

    def cache_info(self) -> CacheInfo:
        return CacheInfo(self._hits, self._misses, self._maxsize, len(self._results))

    def cache_clear(self) -> None:
        self._results.clear()
        self._hits = self._misses = 0


def memoize(maxsize: int = 128) -> Callable[[Callable[P, R]], Memoized[P, R]]:
    """A decorator factory: `@memoize(maxsize=2)` caches at most two results.

    `maxsize` below 1 is a ValueError, raised when `memoize(...)` is called (before decorating).
    """
    if maxsize < 1:
        raise ValueError(f"maxsize must be at least 1, got {maxsize}")

    def decorate(func: Callable[P, R]) -> Memoized[P, R]:
        return Memoized(func, maxsize)

    return decorate
