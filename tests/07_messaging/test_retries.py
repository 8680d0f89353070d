"""07.2 — retries with exponential backoff and full jitter, then the dead letter."""

from __future__ import annotations

import asyncio
import random
import statistics

import pytest

from journey.targets import load

retries = load(__file__, "retries")
envelope = load(__file__, "envelope")


class Recorder:
    """A fake sleep and a dead letter that remember what they were asked."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.dead: list[tuple[object, str]] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def dead_letter(self, message: object, reason: str) -> None:
        self.dead.append((message, reason))


def failing(times: int, error: BaseException | None = None):
    """A handler that fails `times` times (ConnectionError by default), then succeeds."""
    calls: list[object] = []

    async def handler(message: object) -> None:
        calls.append(message)
        if len(calls) <= times:
            raise error or ConnectionError(f"database restarting ({len(calls)})")

    return handler, calls


def run(handler, policy, recorder: Recorder, message: object = "m-1", seed: int = 7):
    return asyncio.run(
        retries.process_with_retries(
            message,
            handler,
            policy,
            dead_letter=recorder.dead_letter,
            sleep=recorder.sleep,
            rng=random.Random(seed),
        )
    )


def test_the_ceiling_doubles_from_the_base_and_stops_at_the_cap() -> None:
    policy = retries.RetryPolicy(max_attempts=10, base_delay=0.1, max_delay=1.0)
    ceilings = [policy.ceiling(n) for n in range(1, 7)]
    assert ceilings == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0]), (
        "retry 1 may wait up to base_delay, each later retry twice as long, never past max_delay"
    )
    assert policy.ceiling(10_000) == 1.0, "a huge retry number must not overflow"


def test_full_jitter_spreads_the_waits_over_the_whole_range() -> None:
    policy = retries.RetryPolicy(base_delay=1.0, max_delay=8.0)
    rng = random.Random(1)
    waits = [policy.delay(3, rng) for _ in range(4000)]  # ceiling 4.0
    assert all(0 <= w <= 4.0 for w in waits), "a delay stays within [0, ceiling]"
    assert len(set(waits)) > 3000, "jitter: the waits must differ, or consumers retry in step"
    assert statistics.mean(waits) == pytest.approx(2.0, abs=0.15), (
        "full jitter draws uniformly from [0, ceiling]: the mean is ceiling / 2"
    )
    assert (min(waits) < 0.2, max(waits) > 3.8) == (True, True), "the whole range is used"


def test_the_delay_uses_the_rng_it_is_given() -> None:
    policy = retries.RetryPolicy()
    first = [policy.delay(2, random.Random(5)) for _ in range(3)]
    assert first[0] == first[1] == first[2], "the same seed gives the same waits (testable)"
    assert policy.delay(2, random.Random(5)) != policy.delay(2, random.Random(6))


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"base_delay": 0}, "base_delay"),
        ({"base_delay": -1}, "base_delay"),
        ({"base_delay": 2.0, "max_delay": 1.0}, "max_delay"),
    ],
)
def test_a_policy_that_makes_no_sense_is_refused(kwargs: dict, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        retries.RetryPolicy(**kwargs)


def test_a_single_attempt_policy_is_allowed() -> None:
    recorder = Recorder()
    handler, calls = failing(0)
    outcome = run(handler, retries.RetryPolicy(max_attempts=1), recorder)
    assert (outcome.ok, outcome.attempts, len(calls)) == (True, 1, 1)


def test_a_transient_failure_is_retried_after_a_jittered_backoff() -> None:
    recorder = Recorder()
    handler, calls = failing(2)
    policy = retries.RetryPolicy(max_attempts=5, base_delay=0.1, max_delay=10.0)
    outcome = run(handler, policy, recorder)
    assert (outcome.ok, outcome.attempts, len(calls)) == (True, 3, 3), (
        "two failures, then success on the third attempt"
    )
    assert not recorder.dead, "a message that succeeded never goes to the dead letter"
    assert len(recorder.sleeps) == 2, "one wait before each retry, none after success"
    assert (0 <= recorder.sleeps[0] <= 0.1, 0 <= recorder.sleeps[1] <= 0.2) == (True, True), (
        f"waits {recorder.sleeps} must stay under the ceilings 0.1 and 0.2"
    )
    expected = random.Random(7)
    assert recorder.sleeps == [policy.delay(1, expected), policy.delay(2, expected)], (
        "each wait is policy.delay(retry, rng) with the rng passed in"
    )


def test_after_max_attempts_it_goes_to_the_dead_letter_with_its_reason() -> None:
    recorder = Recorder()
    handler, calls = failing(100)
    outcome = run(handler, retries.RetryPolicy(max_attempts=4), recorder)
    assert len(calls) == 4, f"max_attempts=4 means 4 tries in all, got {len(calls)}"
    assert len(recorder.sleeps) == 3, "no wait after the last attempt"
    assert (outcome.ok, outcome.attempts) == (False, 4)
    assert recorder.dead == [("m-1", outcome.reason)], "dead-letter the message once"
    assert outcome.reason.startswith("gave up after 4 attempts"), outcome.reason
    assert "database restarting" in outcome.reason, "the reason names the last error"


def test_a_poison_message_is_never_retried() -> None:
    recorder = Recorder()
    handler, calls = failing(100, envelope.PoisonMessage("unknown event type 'x.y'"))
    outcome = run(handler, retries.RetryPolicy(max_attempts=5), recorder)
    assert len(calls) == 1, "retrying a poison message can never help: try it once"
    assert recorder.sleeps == [], "and do not wait for it"
    assert recorder.dead == [("m-1", "unknown event type 'x.y'")], (
        "the dead letter gets the poison's own reason"
    )
    assert (outcome.ok, outcome.attempts) == (False, 1)


def test_the_consumer_goes_on_after_a_dead_letter() -> None:
    recorder = Recorder()
    done: list[str] = []

    async def handler(message: str) -> None:
        if message == "bad":
            raise envelope.PoisonMessage("not valid JSON")
        if message == "flaky":
            raise TimeoutError("slow service")
        done.append(message)

    async def consume() -> list[bool]:
        policy = retries.RetryPolicy(max_attempts=2)
        outcomes = []
        for message in ["a", "bad", "flaky", "b"]:
            outcome = await retries.process_with_retries(
                message, handler, policy, dead_letter=recorder.dead_letter, sleep=recorder.sleep
            )
            outcomes.append(outcome.ok)
        return outcomes

    assert asyncio.run(consume()) == [True, False, False, True]
    assert done == ["a", "b"], "one bad message must not stop the ones after it"
    assert [m for m, _ in recorder.dead] == ["bad", "flaky"]


def test_cancellation_is_never_swallowed() -> None:
    recorder = Recorder()
    started = asyncio.Event()

    async def hangs(message: object) -> None:
        if started.is_set():
            return  # a second call (after a swallowed cancellation) must not hang the test
        started.set()
        await asyncio.Event().wait()

    async def main() -> None:
        task = asyncio.create_task(
            retries.process_with_retries(
                "m", hangs, retries.RetryPolicy(), dead_letter=recorder.dead_letter
            )
        )
        await asyncio.wait_for(started.wait(), 5)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=5)
        assert done, "a cancelled consumer must stop: do not catch BaseException"
        with pytest.raises(asyncio.CancelledError):
            task.result()

    asyncio.run(main())
    assert recorder.dead == [], "a cancelled message is not a failed one: no dead letter"


def test_a_failing_dead_letter_is_not_hidden() -> None:
    async def broken_dead_letter(message: object, reason: str) -> None:
        raise ConnectionError("dead-letter stream unreachable")

    handler, _ = failing(100, envelope.PoisonMessage("bad"))
    with pytest.raises(ConnectionError):
        asyncio.run(
            retries.process_with_retries(
                "m", handler, retries.RetryPolicy(), dead_letter=broken_dead_letter
            )
        )
