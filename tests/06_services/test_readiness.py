"""06.2 Liveness and readiness: health endpoints that never hang."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from journey.pytest_plugin import RedisSpace
from journey.targets import load

readiness = load(__file__, "readiness")
Dependency = readiness.Dependency

MARGIN = 2.0  # seconds of slack for a busy machine; the bounds tested are far below a hang
# A timer that should fire after its timeout may fire this much later on a busy machine. It is
# kept below SLOW_CHECK - 0.2 so that no fixed timeout can pass both the hang and the slow tests.
LATE = 0.75
SLOW_CHECK = 1.05  # a check slower than 1 s, within its own timeout


async def ok() -> None:
    return None


async def refused() -> None:
    raise ConnectionError("refused")


async def hangs() -> None:
    await asyncio.sleep(3600)


def takes(seconds: float):
    async def check() -> str:
        await asyncio.sleep(seconds)
        return "done"

    return check


async def get(app, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        return await client.get(path)


# -- the checks -----------------------------------------------------------------------------


@pytest.mark.parametrize("timeout", [0, -1, -0.5])
def test_a_timeout_must_be_positive(timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout_seconds must be positive"):
        Dependency("db", ok, timeout)


def test_the_smallest_positive_timeout_is_accepted() -> None:
    assert Dependency("db", ok, 0.001).timeout_seconds == 0.001


def test_all_checks_passing_is_ready(run) -> None:
    verdict = run(readiness.check_readiness([Dependency("db", ok), Dependency("cache", ok)]))
    assert verdict.ready is True
    assert verdict.checks == {"db": "ok", "cache": "ok"}
    empty = run(readiness.check_readiness([]))
    assert (empty.ready, empty.checks) == (True, {}), "nothing to check: ready"


def test_a_failing_check_says_why(run) -> None:
    verdict = run(readiness.check_readiness([Dependency("db", ok), Dependency("cache", refused)]))
    assert verdict.ready is False, "one failing dependency is enough to be not ready"
    assert verdict.checks == {"db": "ok", "cache": "ConnectionError: refused"}, (
        "a check that raises is reported as '{ExceptionType}: {message}', and does not stop "
        "the others"
    )


def test_a_hanging_dependency_is_not_ready_within_its_timeout(run) -> None:
    started = time.perf_counter()
    verdict = run(readiness.check_readiness([Dependency("db", hangs, 0.2)]))
    elapsed = time.perf_counter() - started
    assert verdict.checks == {"db": "timed out after 0.2s"}, (
        "a check that runs past its timeout fails with 'timed out after {timeout_seconds}s'"
    )
    assert verdict.ready is False
    assert elapsed < 0.2 + LATE, (
        f"the answer took {elapsed:.2f}s: a hanging check fails at ITS timeout (0.2s here)"
    )


def test_each_check_has_its_own_timeout(run) -> None:
    started = time.perf_counter()
    verdict = run(
        readiness.check_readiness(
            [Dependency("cache", hangs, 0.2), Dependency("search", takes(SLOW_CHECK), 4.0)]
        )
    )
    elapsed = time.perf_counter() - started
    assert verdict.checks == {"cache": "timed out after 0.2s", "search": "ok"}, (
        "a slow check within ITS OWN timeout passes, and the hanging one fails at ITS OWN "
        f"timeout: not one timeout for all; got {verdict.checks}"
    )
    assert elapsed < SLOW_CHECK + MARGIN, f"took {elapsed:.2f}s: the checks should run at once"


def test_checks_run_at_the_same_time(run) -> None:
    arrived: list[str] = []
    all_in = asyncio.Event()

    def waits_for_the_others(name: str):
        async def check() -> None:
            arrived.append(name)
            if len(arrived) == 3:
                all_in.set()
            await all_in.wait()  # only returns once all three checks are running at once

        return check

    deps = [Dependency(n, waits_for_the_others(n), 1.0) for n in ("db", "cache", "search")]
    verdict = run(readiness.check_readiness(deps))
    assert verdict.checks == {"db": "ok", "cache": "ok", "search": "ok"}, (
        "each check here waits until all three are running: run them concurrently "
        f"(asyncio.gather or a TaskGroup), not one after another; got {verdict.checks}"
    )


def test_redis_dependency_pings_a_real_redis(run, redis_space: RedisSpace) -> None:
    import redis.asyncio as aioredis

    async def main():
        client = aioredis.Redis.from_url(redis_space.url)
        try:
            dependency = readiness.redis_dependency(client, 0.5)
            return dependency, await readiness.check_readiness([dependency])
        finally:
            await client.aclose()

    dependency, verdict = run(main())
    assert (dependency.name, dependency.timeout_seconds) == ("redis", 0.5)
    assert verdict.checks == {"redis": "ok"}, "Redis answers PING: ready"


def test_redis_dependency_fails_when_redis_is_away(run, closed_port: int) -> None:
    import redis.asyncio as aioredis

    async def main():
        # redis-py retries a refused connection for a few seconds: the check's timeout is
        # what keeps the probe short
        client = aioredis.Redis(host="127.0.0.1", port=closed_port)
        try:
            started = time.perf_counter()
            verdict = await readiness.check_readiness([readiness.redis_dependency(client, 0.2)])
            return verdict, time.perf_counter() - started
        finally:
            await client.aclose()

    verdict, elapsed = run(main())
    assert verdict.ready is False
    reason = verdict.checks["redis"]
    assert reason.startswith(("ConnectionError", "timed out after 0.2s")), (
        f"nothing listens on the port: the PING fails or times out, got {verdict.checks}"
    )
    assert elapsed < 0.2 + MARGIN, f"the check took {elapsed:.2f}s, past its timeout of 0.2s"


# -- the endpoints ----------------------------------------------------------------------


def test_ready_answers_200_with_every_check(run) -> None:
    app = readiness.create_app([Dependency("db", ok), Dependency("cache", ok)])
    response = run(get(app, "/health/ready"))
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"db": "ok", "cache": "ok"}}


def test_not_ready_answers_503_and_names_the_failing_dependency(run) -> None:
    app = readiness.create_app([Dependency("db", ok), Dependency("cache", refused)])
    response = run(get(app, "/health/ready"))
    assert response.status_code == 503, (
        "not ready is 503 Service Unavailable: send traffic elsewhere"
    )
    assert response.json() == {
        "status": "not ready",
        "checks": {"db": "ok", "cache": "ConnectionError: refused"},
    }


def test_ready_answers_503_within_the_timeout_of_a_hanging_dependency(run) -> None:
    app = readiness.create_app([Dependency("db", hangs, 0.2)])
    started = time.perf_counter()
    response = run(get(app, "/health/ready"))
    elapsed = time.perf_counter() - started
    assert response.status_code == 503
    assert response.json()["checks"] == {"db": "timed out after 0.2s"}
    assert elapsed < 0.2 + LATE, f"the probe took {elapsed:.2f}s for a timeout of 0.2s"


def test_live_runs_no_check_at_all(run) -> None:
    calls: list[str] = []

    async def counted_hang() -> None:
        calls.append("called")
        await asyncio.sleep(3600)

    app = readiness.create_app([Dependency("db", counted_hang, 5.0)])
    started = time.perf_counter()
    response = run(get(app, "/health/live"))
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}
    assert calls == [], (
        "liveness must not look at dependencies: a database outage would otherwise get every "
        "instance restarted, which fixes nothing"
    )
    assert time.perf_counter() - started < MARGIN


def test_dependency_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="dependency names must be unique"):
        readiness.create_app([Dependency("db", ok), Dependency("db", refused)])
