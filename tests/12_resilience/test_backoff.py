"""12.1 Retries with exponential backoff, full jitter and a retryable predicate."""

from __future__ import annotations

import pytest

from journey.targets import load

backoff = load(__file__, "backoff")


class Flaky:
    """Fails with the given errors in turn, then returns "ok"; counts the calls."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


# -- the delays -----------------------------------------------------------------------------


def test_the_ceiling_doubles_from_base_up_to_the_cap() -> None:
    ceilings = [backoff.backoff_ceiling(n, base=0.1, cap=1.0) for n in range(1, 7)]
    assert ceilings == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0]), (
        "after failure n the longest pause is min(cap, base * 2 ** (n - 1)): 0.1, 0.2, 0.4, "
        f"0.8, then the cap 1.0; got {ceilings}"
    )


def test_a_huge_attempt_number_gives_the_cap_not_an_overflow() -> None:
    assert backoff.backoff_ceiling(10_000, base=0.5, cap=30.0) == 30.0, (
        "2 ** 9999 overflows a float: past that point the answer is simply the cap"
    )


def test_attempt_numbers_start_at_one() -> None:
    with pytest.raises(ValueError, match="1"):
        backoff.backoff_ceiling(0, base=0.1, cap=1.0)


@pytest.mark.parametrize("draw", [0.0, 0.25, 0.999])
def test_full_jitter_spreads_the_pause_over_the_whole_window(draw: float) -> None:
    pause = backoff.full_jitter(3, base=0.1, cap=10.0, random=lambda: draw)
    assert pause == pytest.approx(draw * 0.4), (
        f"full jitter is random() * ceiling: with random()={draw} and a ceiling of 0.4 "
        f"(attempt 3), the pause is {draw * 0.4}, got {pause}"
    )


def test_full_jitter_with_the_real_random_stays_inside_the_window() -> None:
    pauses = [backoff.full_jitter(2, base=1.0, cap=5.0) for _ in range(200)]
    assert all(0 <= p < 2.0 for p in pauses), "every pause lies in [0, ceiling)"
    assert len(set(pauses)) > 100, "the pauses are random, not one fixed value"


@pytest.mark.parametrize(
    ("seconds", "draw", "expected"),
    [
        (1, 0.0, 1),
        (1, 0.49, 1),
        (1, 0.5, 2),
        (1, 0.999, 2),
        (10, 0.0, 10),
        (10, 0.999, 20),
        (0.2, 0.999, 1),
        (2.5, 0.0, 3),
    ],
)
def test_jittered_retry_after_is_whole_seconds_spread_up_to_twice(
    seconds: float, draw: float, expected: int
) -> None:
    got = backoff.jittered_retry_after(seconds, random=lambda: draw)
    assert got == expected, (
        f"Retry-After for {seconds}s with random()={draw}: a whole number from "
        f"ceil({seconds}) to ceil({2 * seconds}), never below 1 - expected {expected}, got {got}"
    )
    assert isinstance(got, int), "Retry-After is a whole number of seconds"


def test_jittered_retry_after_really_varies() -> None:
    values = {backoff.jittered_retry_after(10) for _ in range(300)}
    assert values <= set(range(10, 21)), f"values stay within 10..20, got {sorted(values)}"
    assert len(values) >= 8, "clients told to come back must not all be told the same second"


# -- the retry decorator --------------------------------------------------------------------


def test_a_transient_failure_is_retried_until_it_works(fake_time, randoms) -> None:
    flaky = Flaky(ConnectionError("refused"), TimeoutError("slow"))
    policy = backoff.retry(
        attempts=5, base=0.1, cap=10.0, sleep=fake_time.sync_sleep, random=randoms(0.5)
    )
    assert policy(flaky)() == "ok"
    assert flaky.calls == 3, "two failures, then the third call works"
    assert fake_time.sleeps == pytest.approx([0.05, 0.1]), (
        "after failure 1 the pause is 0.5 * 0.1, after failure 2 it is 0.5 * 0.2 (full jitter "
        f"with random()=0.5), got {fake_time.sleeps}"
    )


def test_every_pause_is_jittered(fake_time) -> None:
    draws = iter([0.9, 0.1, 0.6])
    policy = backoff.retry(
        attempts=4, base=1.0, cap=100.0, sleep=fake_time.sync_sleep, random=lambda: next(draws)
    )
    flaky = Flaky(ConnectionError(), ConnectionError(), ConnectionError())
    policy(flaky)()
    assert fake_time.sleeps == pytest.approx([0.9, 0.2, 2.4]), (
        "each pause is a fresh random() times that attempt's ceiling (1, 2, 4): "
        f"0.9, 0.2, 2.4 - got {fake_time.sleeps}"
    )


def test_when_attempts_run_out_the_last_error_itself_is_raised(fake_time) -> None:
    last = ConnectionError("third")
    flaky = Flaky(ConnectionError("first"), ConnectionError("second"), last)
    policy = backoff.retry(attempts=3, base=0.1, cap=1.0, sleep=fake_time.sync_sleep)
    with pytest.raises(ConnectionError) as caught:
        policy(flaky)()
    assert caught.value is last, "the caller sees the last error itself, not a wrapper"
    assert flaky.calls == 3, "attempts=3 means 3 calls in all"
    assert len(fake_time.sleeps) == 2, "pauses only between attempts: none after the last one"


def test_attempts_one_calls_once_and_never_sleeps(fake_time) -> None:
    flaky = Flaky(ConnectionError())
    with pytest.raises(ConnectionError):
        backoff.retry(attempts=1, sleep=fake_time.sync_sleep)(flaky)()
    assert flaky.calls == 1
    assert fake_time.sleeps == []


def test_an_error_that_is_not_retryable_is_raised_at_once(fake_time) -> None:
    flaky = Flaky(ValueError("bad request"))
    policy = backoff.retry(attempts=5, sleep=fake_time.sync_sleep)
    with pytest.raises(ValueError, match="bad request"):
        policy(flaky)()
    assert flaky.calls == 1, "a ValueError fails the same way every time: never retry it"
    assert fake_time.sleeps == []


def test_the_retryable_predicate_decides(fake_time) -> None:
    class RateLimited(Exception):
        pass

    policy = backoff.retry(
        attempts=3,
        sleep=fake_time.sync_sleep,
        retryable=lambda error: isinstance(error, RateLimited),
    )
    flaky = Flaky(RateLimited(), RateLimited())
    assert policy(flaky)() == "ok", "a custom predicate makes RateLimited retryable"
    refused = Flaky(ConnectionError())
    with pytest.raises(ConnectionError):
        policy(refused)()
    assert refused.calls == 1, "and only what the predicate accepts is retried"


def test_keyboard_interrupt_is_never_retried(fake_time) -> None:
    flaky = Flaky(KeyboardInterrupt())
    policy = backoff.retry(attempts=5, sleep=fake_time.sync_sleep, retryable=lambda e: True)
    with pytest.raises(KeyboardInterrupt):
        policy(flaky)()
    assert flaky.calls == 1, (
        "Ctrl-C is a BaseException, not a failure of the call: retry only Exception subclasses"
    )


def test_arguments_and_the_function_name_pass_through(fake_time) -> None:
    @backoff.retry(attempts=2, sleep=fake_time.sync_sleep)
    def add(a: int, b: int = 0) -> int:
        """Adds two numbers."""
        return a + b

    assert add(2, b=3) == 5
    assert add.__name__ == "add", "use functools.wraps so logs and tracebacks name the function"
    assert add.__doc__ == "Adds two numbers."


@pytest.mark.parametrize(
    "bad", [{"attempts": 0}, {"base": 0}, {"base": -1}, {"base": 1.0, "cap": 0.5}]
)
def test_bad_settings_are_refused_when_the_decorator_is_made(bad: dict) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        backoff.retry(**bad)


# -- the same policy with tenacity ----------------------------------------------------------


def test_tenacity_retries_with_full_jitter_inside_the_window(fake_time) -> None:
    retrying = backoff.tenacity_retrying(attempts=4, base=0.5, cap=1.5, sleep=fake_time.sync_sleep)
    flaky = Flaky(ConnectionError(), ConnectionError(), ConnectionError())
    assert retrying(flaky) == "ok"
    assert flaky.calls == 4
    ceilings = [0.5, 1.0, 1.5]
    assert len(fake_time.sleeps) == 3, "one pause between each pair of attempts"
    for pause, ceiling in zip(fake_time.sleeps, ceilings, strict=True):
        assert 0 <= pause <= ceiling, (
            f"tenacity's wait_random_exponential(multiplier=base, max=cap) draws from "
            f"[0, {ceiling}]; got {pause}"
        )


def test_tenacity_gives_up_with_the_last_error_itself(fake_time) -> None:
    retrying = backoff.tenacity_retrying(attempts=2, base=0.1, cap=1.0, sleep=fake_time.sync_sleep)
    last = TimeoutError("second")
    flaky = Flaky(TimeoutError("first"), last)
    with pytest.raises(TimeoutError) as caught:
        retrying(flaky)
    assert caught.value is last, (
        "reraise=True: the caller sees the last error, not tenacity.RetryError"
    )
    assert flaky.calls == 2, "stop_after_attempt(2)"


def test_tenacity_retries_only_what_the_predicate_accepts(fake_time) -> None:
    retrying = backoff.tenacity_retrying(attempts=5, base=0.1, cap=1.0, sleep=fake_time.sync_sleep)
    flaky = Flaky(KeyError("missing"))
    with pytest.raises(KeyError):
        retrying(flaky)
    assert flaky.calls == 1, "a KeyError is not retryable by default: one call only"
    custom = backoff.tenacity_retrying(
        attempts=3,
        base=0.1,
        cap=1.0,
        sleep=fake_time.sync_sleep,
        retryable=lambda e: isinstance(e, KeyError),
    )
    again = Flaky(KeyError("missing"))
    assert custom(again) == "ok", "with a predicate that accepts KeyError, it is retried"
