"""07.6 — a Celery task with retries and late acks, run by a real worker process.

The worker is started by the test (never eager mode) and always stopped by it. Its keys live
under the test's Redis prefix and its tasks travel on a queue of their own.
"""

from __future__ import annotations

import random
import time

import pytest

from journey.targets import load

tasks = load(__file__, "celery_tasks")

RESULT_DEADLINE = 30.0


@pytest.fixture
def names(redis_space):
    """The app's key prefix (inside the test's Redis prefix) and a queue of its own."""
    return redis_space.prefix + ":", f"{redis_space.prefix}:receipts"


def wait_for(result, worker, seconds: float = RESULT_DEADLINE):
    """The task's result (an exception instance for a failed task), waiting for it with a
    deadline; a worker process that exits meanwhile fails the test at once."""
    deadline = time.monotonic() + seconds
    while not result.ready():
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited with {worker.process.returncode}:\n{worker.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no result within {seconds} s. The worker said:\n{worker.output()}")
        time.sleep(0.05)
    return result.get(timeout=5, propagate=False)


def test_backoff_is_exponential_full_jitter_and_capped() -> None:
    rng = random.Random(2)
    for retries in range(8):
        ceiling = min(tasks.RETRY_CAP_SECONDS, tasks.RETRY_BASE_SECONDS * 2**retries)
        waits = [tasks.backoff_seconds(retries, rng) for _ in range(300)]
        assert all(0 <= w <= ceiling for w in waits), (
            f"retry {retries + 1}: waits stay within [0, {ceiling}]"
        )
        assert (max(waits) > 0.8 * ceiling, min(waits) < 0.2 * ceiling) == (True, True), (
            "full jitter draws from the whole range [0, ceiling]"
        )


def test_the_app_is_isolated_and_acknowledges_late(names) -> None:
    prefix, queue = names
    app = tasks.make_app("redis://127.0.0.1:6379/0", key_prefix=prefix, queue=queue)
    assert app.conf.broker_transport_options.get("global_keyprefix") == prefix
    assert app.conf.result_backend_transport_options.get("global_keyprefix") == prefix, (
        "results are keys too: give the result backend the same global_keyprefix"
    )
    assert app.conf.task_default_queue == queue
    task = app.tasks[tasks.RECEIPT_TASK]
    assert task.acks_late is True, "acknowledge after the task ran, not before (acks_late)"
    assert task.reject_on_worker_lost is True, (
        "a task whose worker process died must go back to the queue (reject_on_worker_lost)"
    )
    assert task.max_retries == tasks.MAX_RETRIES


@pytest.mark.timeout(90)
def test_a_real_worker_retries_gives_up_and_survives_a_crash(redis_space, names, celery_worker):
    """One worker process, three orders: busy twice then fine; busy for good; and one whose
    first attempt kills the pool process that runs it."""
    prefix, queue = names
    app = tasks.make_app(redis_space.url, key_prefix=prefix, queue=queue)
    mailer = tasks.FlakyMailer(redis_space.client, prefix)
    mailer.fail_next("o-1", 2)
    mailer.fail_next("o-2", 99)
    mailer.crash_next("o-3")
    worker = celery_worker(redis_space.url, prefix, queue, tasks.__file__)
    try:
        started = time.monotonic()
        results = {o: app.send_task(tasks.RECEIPT_TASK, args=[o]) for o in ("o-1", "o-2", "o-3")}
        outcomes = {order: wait_for(result, worker) for order, result in results.items()}
        elapsed = time.monotonic() - started
    finally:
        app.close()
    assert outcomes["o-1"] == "receipt sent for o-1", outcomes
    assert mailer.attempts("o-1") == 3, "two failures, then the third attempt succeeds"
    assert results["o-2"].state == "FAILURE", "after MAX_RETRIES retries the task fails for good"
    assert mailer.attempts("o-2") == tasks.MAX_RETRIES + 1, (
        f"one try plus {tasks.MAX_RETRIES} retries, got {mailer.attempts('o-2')}"
    )
    assert mailer.attempts("o-3") == 2, (
        f"the pool process died during attempt 1 of o-3; attempts: {mailer.attempts('o-3')}"
    )
    assert outcomes["o-3"] == "receipt sent for o-3", (
        "with acks_late and reject_on_worker_lost, the message of a task whose worker process "
        f"died goes back to the queue and runs again; got {outcomes['o-3']!r}"
    )
    assert mailer.sent() == {"o-1", "o-3"}
    assert elapsed < RESULT_DEADLINE, "retries wait fractions of a second, not whole seconds"
