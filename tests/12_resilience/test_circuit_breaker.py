"""12.2 CircuitBreaker: closed, open, half-open, on a fake clock."""

from __future__ import annotations

import pytest

from journey.targets import load

cb = load(__file__, "circuit_breaker")
State = cb.State


def make(fake_time, **options):
    options.setdefault("failure_threshold", 3)
    options.setdefault("reset_timeout", 10.0)
    return cb.CircuitBreaker("inventory", clock=fake_time.clock, **options)


def fail(breaker, times: int) -> None:
    for _ in range(times):
        breaker.acquire()
        breaker.record_failure()


def test_a_new_breaker_is_closed_and_lets_calls_through(fake_time) -> None:
    breaker = make(fake_time)
    assert breaker.state == State.CLOSED
    for _ in range(10):
        breaker.acquire()  # raises CircuitOpen if refused
        breaker.record_success()
    assert breaker.state == State.CLOSED


def test_it_opens_on_the_threshold_th_consecutive_failure(fake_time) -> None:
    breaker = make(fake_time, failure_threshold=3)
    fail(breaker, 2)
    assert breaker.state == State.CLOSED, "2 failures are below a threshold of 3"
    assert breaker.failures == 2
    fail(breaker, 1)
    assert breaker.state == State.OPEN, "the 3rd consecutive failure opens it"


def test_a_threshold_of_one_opens_on_the_first_failure(fake_time) -> None:
    breaker = make(fake_time, failure_threshold=1)
    fail(breaker, 1)
    assert breaker.state == State.OPEN, "failure_threshold=1: one failure is enough"


def test_a_success_resets_the_count_of_consecutive_failures(fake_time) -> None:
    breaker = make(fake_time, failure_threshold=3)
    fail(breaker, 2)
    breaker.acquire()
    breaker.record_success()
    assert breaker.failures == 0, "a success in between means the failures were not in a row"
    fail(breaker, 2)
    assert breaker.state == State.CLOSED, (
        "fail, fail, succeed, fail, fail: never 3 in a row, so it stays closed"
    )


def test_an_open_breaker_refuses_calls_and_says_when_to_come_back(fake_time) -> None:
    breaker = make(fake_time, reset_timeout=10.0)
    fail(breaker, 3)
    fake_time.advance(4.0)
    with pytest.raises(cb.CircuitOpen) as caught:
        breaker.acquire()
    assert caught.value.retry_after == pytest.approx(6.0), (
        "opened 4 s ago with reset_timeout=10: a probe may go in 6 s"
    )
    assert "inventory" in str(caught.value), "the error names the breaker"


def test_after_reset_timeout_it_is_half_open(fake_time) -> None:
    breaker = make(fake_time, reset_timeout=10.0)
    fail(breaker, 3)
    fake_time.advance(9.99)
    assert breaker.state == State.OPEN, "just before reset_timeout it is still open"
    fake_time.advance(0.01)
    assert breaker.state == State.HALF_OPEN, (
        "once reset_timeout has passed since it opened, the breaker is half-open: it must "
        "not stay open for ever"
    )


def test_half_open_lets_exactly_one_probe_through_by_default(fake_time) -> None:
    breaker = make(fake_time)
    fail(breaker, 3)
    fake_time.advance(10.0)
    breaker.acquire()  # the probe
    with pytest.raises(cb.CircuitOpen) as caught:
        breaker.acquire()
    assert caught.value.retry_after == 0, (
        "while the probe is out, other calls are refused (retry_after 0: try again soon)"
    )
    with pytest.raises(cb.CircuitOpen):
        breaker.acquire()


def test_half_open_max_calls_probes_at_once(fake_time) -> None:
    breaker = make(fake_time, half_open_max_calls=2)
    fail(breaker, 3)
    fake_time.advance(10.0)
    breaker.acquire()
    breaker.acquire()
    with pytest.raises(cb.CircuitOpen):
        breaker.acquire()  # a third probe is one too many


def test_a_successful_probe_closes_the_breaker(fake_time) -> None:
    breaker = make(fake_time)
    fail(breaker, 3)
    fake_time.advance(10.0)
    breaker.acquire()
    breaker.record_success()
    assert breaker.state == State.CLOSED
    assert breaker.failures == 0, "closed again, with a clean count"
    fail(breaker, 2)
    assert breaker.state == State.CLOSED, "it takes 3 new failures to open it again"


def test_a_failed_probe_opens_it_again_for_a_full_reset_timeout(fake_time) -> None:
    breaker = make(fake_time, reset_timeout=10.0)
    fail(breaker, 3)
    fake_time.advance(12.0)
    breaker.acquire()
    breaker.record_failure()
    assert breaker.state == State.OPEN, "the probe failed: the service is still down"
    with pytest.raises(cb.CircuitOpen) as caught:
        breaker.acquire()
    assert caught.value.retry_after == pytest.approx(10.0), (
        "the wait starts again from the failed probe, not from the first opening"
    )
    fake_time.advance(9.0)
    assert breaker.state == State.OPEN
    fake_time.advance(1.0)
    assert breaker.state == State.HALF_OPEN


def test_a_released_probe_frees_its_slot(fake_time) -> None:
    breaker = make(fake_time)
    fail(breaker, 3)
    fake_time.advance(10.0)
    breaker.acquire()
    breaker.release()  # the probe was cancelled: no verdict
    assert breaker.state == State.HALF_OPEN, "no verdict: still half-open"
    breaker.acquire()  # must not raise: the slot is free again
    breaker.record_success()
    assert breaker.state == State.CLOSED


def test_release_outside_half_open_changes_nothing(fake_time) -> None:
    breaker = make(fake_time)
    breaker.acquire()
    breaker.release()
    assert breaker.state == State.CLOSED
    fail(breaker, 3)
    fake_time.advance(10.0)
    breaker.release()  # a stray release while no probe is out
    breaker.acquire()
    with pytest.raises(cb.CircuitOpen):
        breaker.acquire()  # still only one probe at a time


def test_results_reported_while_open_change_nothing(fake_time) -> None:
    breaker = make(fake_time, reset_timeout=10.0)
    fail(breaker, 3)
    fake_time.advance(5.0)
    breaker.record_success()  # a call that started before it opened, finishing late
    assert breaker.state == State.OPEN, "a late success does not close an open breaker"
    breaker.record_failure()
    with pytest.raises(cb.CircuitOpen) as caught:
        breaker.acquire()
    assert caught.value.retry_after == pytest.approx(5.0), (
        "a late failure does not restart the wait either"
    )


def test_on_change_reports_every_transition(fake_time) -> None:
    seen: list[tuple[str, str]] = []
    breaker = make(fake_time, on_change=lambda old, new: seen.append((old, new)))
    fail(breaker, 3)
    fake_time.advance(10.0)
    breaker.acquire()
    breaker.record_failure()
    fake_time.advance(10.0)
    breaker.acquire()
    breaker.record_success()
    assert seen == [
        (State.CLOSED, State.OPEN),
        (State.OPEN, State.HALF_OPEN),
        (State.HALF_OPEN, State.OPEN),
        (State.OPEN, State.HALF_OPEN),
        (State.HALF_OPEN, State.CLOSED),
    ], f"on_change(old, new) is called once per change of state, in order; got {seen}"


@pytest.mark.parametrize(
    "bad",
    [{"failure_threshold": 0}, {"reset_timeout": 0}, {"half_open_max_calls": 0}],
)
def test_bad_settings_are_refused(fake_time, bad: dict) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        make(fake_time, **bad)
