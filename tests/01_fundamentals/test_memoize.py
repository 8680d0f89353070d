"""01.4 A decorator with state: bounded memoize with LRU eviction."""

import pytest

from journey.targets import load

memoize = load(__file__, "memoize")


def make_square(maxsize: int = 2) -> tuple[object, list[int]]:
    """A memoized square() and the list of arguments it was really called with."""
    calls: list[int] = []

    @memoize.memoize(maxsize=maxsize)
    def square(x: int) -> int:
        """Squares x."""
        calls.append(x)
        return x * x

    return square, calls


def test_repeated_calls_are_served_from_the_cache() -> None:
    square, calls = make_square()
    assert square(3) == 9
    assert square(3) == 9
    assert calls == [3], "the second square(3) must come from the cache, not call the function"


def test_cache_info_counts_hits_and_misses() -> None:
    square, _ = make_square(maxsize=5)
    square(1), square(2), square(1), square(1)
    info = square.cache_info()
    assert info == memoize.CacheInfo(hits=2, misses=2, maxsize=5, currsize=2), (
        "two new arguments are misses, the two repeats are hits"
    )


def test_least_recently_used_is_evicted() -> None:
    square, calls = make_square(maxsize=2)
    square(1), square(2)
    square(1)  # 1 is now the most recently used, so 2 is the least
    square(3)  # cache full: evicts 2
    assert square.cache_info().currsize == 2, "never more than maxsize results"
    calls.clear()
    square(1)
    assert calls == [], "1 was used recently, it must still be cached"
    square(2)
    assert calls == [2], "2 was the least recently used, it must have been evicted"


def test_keyword_order_does_not_matter() -> None:
    calls: list[tuple[int, int]] = []

    @memoize.memoize(maxsize=4)
    def area(width: int, height: int) -> int:
        calls.append((width, height))
        return width * height

    assert area(width=2, height=3) == 6
    assert area(height=3, width=2) == 6
    assert calls == [(2, 3)], "f(a=1, b=2) and f(b=2, a=1) are the same call"
    assert area(width=5, height=3) == 15, "different keyword values are a different call"
    assert calls == [(2, 3), (5, 3)], "keyword arguments are part of the cache key"


def test_positional_and_keyword_calls_are_different_keys() -> None:
    square, calls = make_square(maxsize=4)
    assert square(3) == 9
    assert square(x=3) == 9
    assert calls == [3, 3], "f(1) and f(x=1) are different keys, as in functools.lru_cache"


def test_exceptions_are_not_cached() -> None:
    attempts: list[int] = []

    @memoize.memoize(maxsize=4)
    def flaky(x: int) -> int:
        attempts.append(x)
        if len(attempts) == 1:
            raise ConnectionError("first call fails")
        return x

    with pytest.raises(ConnectionError):
        flaky(1)
    assert flaky(1) == 1, "after a failure the function is called again"
    assert attempts == [1, 1]
    assert flaky.cache_info().currsize == 1, "only the successful result is stored"


def test_unhashable_arguments_raise_type_error_without_calling() -> None:
    square, calls = make_square()
    with pytest.raises(TypeError, match="hashable") as caught:
        square([1, 2])
    assert calls == [], "the function is not called when the arguments cannot be a cache key"
    assert "square" in str(caught.value), (
        "the error names the memoized function, so the traceback says which cache refused"
    )


def test_maxsize_one_is_the_smallest_cache() -> None:
    square, calls = make_square(maxsize=1)
    assert square(2) == 4
    assert square(2) == 4
    assert calls == [2], "maxsize=1 is valid: it keeps the last result"
    square(3)
    square(2)
    assert calls == [2, 3, 2], "with room for one result, 3 evicted 2"
    assert square.cache_info() == memoize.CacheInfo(hits=1, misses=3, maxsize=1, currsize=1)


def test_cache_clear_forgets_everything() -> None:
    square, calls = make_square()
    square(4), square(4)
    square.cache_clear()
    assert square.cache_info() == memoize.CacheInfo(0, 0, 2, 0), "counters and results reset"
    square(4)
    assert calls == [4, 4], "after cache_clear the function runs again"


def test_wrapper_looks_like_the_function() -> None:
    square, _ = make_square()
    assert square.__name__ == "square", "functools.update_wrapper / wraps copies __name__"
    assert square.__doc__ == "Squares x."
    assert square.__wrapped__(5) == 25, "__wrapped__ is the original, undecorated function"


def test_memoized_recursion_makes_fibonacci_linear() -> None:
    calls = 0

    @memoize.memoize(maxsize=128)
    def fib(n: int) -> int:
        nonlocal calls
        calls += 1
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    assert fib(80) == 23416728348467685
    assert calls == 81, "each fib(k) for k = 0..80 is computed exactly once"


@pytest.mark.parametrize("maxsize", [0, -1])
def test_maxsize_below_one_is_refused(maxsize: int) -> None:
    with pytest.raises(ValueError, match="maxsize"):
        memoize.memoize(maxsize=maxsize)
