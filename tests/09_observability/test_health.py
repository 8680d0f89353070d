"""09.6 Health and status endpoints with build information and dependency checks."""

from __future__ import annotations

import asyncio
import platform

import pytest

from journey.targets import load

health = load(__file__, "health")

SECRET = "s3cret-pw"
BUILD = health.BuildInfo(version="1.4.2", commit="9fceb02", built_at="2025-01-31T09:00:00Z")


async def _ok() -> None:
    return None


async def _down() -> None:
    raise ConnectionError(f"could not connect to postgresql://shop:{SECRET}@db.internal:5432")


async def _hangs() -> None:
    await asyncio.Event().wait()


def _app(checks, *, timeout: float = 1.0, clock=None):
    from fastapi import FastAPI

    app = FastAPI()
    kwargs = {"timeout": timeout} | ({"clock": clock} if clock else {})
    app.include_router(health.health_router("orders", BUILD, checks, **kwargs))
    return app


def _get(call, app, path: str):
    """GET ``path`` from ``app``, with a deadline: a check that hangs must not hang the test."""

    async def main():
        async with asyncio.timeout(10):
            return await call(app, "GET", path)

    return asyncio.run(main())


def test_build_info_comes_from_the_environment_with_defaults() -> None:
    env = {"BUILD_VERSION": "2.0.1", "BUILD_COMMIT": "abc1234", "BUILD_DATE": "2025-02-01"}
    assert health.BuildInfo.from_env(env) == health.BuildInfo("2.0.1", "abc1234", "2025-02-01")
    assert health.BuildInfo.from_env({}) == health.BuildInfo("dev", "unknown", None), (
        "missing variables get the defaults: version 'dev', commit 'unknown', built_at None"
    )
    assert health.BuildInfo.from_env({"BUILD_VERSION": "  ", "BUILD_COMMIT": ""}) == (
        health.BuildInfo("dev", "unknown", None)
    ), "a blank value counts as missing"


def test_run_checks_reports_each_check_by_name() -> None:
    results = asyncio.run(health.run_checks({"database": _ok, "redis": _down}, timeout=1.0))
    assert set(results) == {"database", "redis"}
    assert results["database"].ok is True
    assert results["database"].error is None
    assert results["redis"].ok is False
    assert results["redis"].error == "ConnectionError", (
        "a failed check's error is the exception's class name - only that"
    )
    assert all(r.latency_ms >= 0 for r in results.values()), "latency_ms is measured for each"


def test_a_check_that_hangs_fails_with_a_timeout() -> None:
    async def main():
        async with asyncio.timeout(10):  # the test's own deadline, far above the check's
            return await health.run_checks({"broker": _hangs, "database": _ok}, timeout=0.2)

    results = asyncio.run(main())
    assert results["broker"].ok is False, (
        "a check that does not answer within `timeout` seconds fails as 'TimeoutError'"
    )
    assert results["broker"].error == "TimeoutError", (
        "a check that does not answer within `timeout` seconds fails as 'TimeoutError'"
    )
    assert results["database"].ok is True


def test_checks_run_concurrently() -> None:
    started = {"database": asyncio.Event, "redis": asyncio.Event}

    async def main():
        events = {name: make() for name, make in started.items()}

        def check(mine: str, other: str):
            async def run() -> None:
                events[mine].set()
                await events[other].wait()  # passes only if the other check runs meanwhile

            return run

        checks = {"database": check("database", "redis"), "redis": check("redis", "database")}
        async with asyncio.timeout(10):
            return await health.run_checks(checks, timeout=2.0)

    results = asyncio.run(main())
    assert all(r.ok for r in results.values()), (
        "each of these checks waits until the other has started: they pass only when run at "
        "the same time (asyncio.gather). One after the other, each would time out"
    )


@pytest.mark.parametrize("timeout", [0, -1.0])
def test_a_timeout_that_is_not_positive_is_refused(timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        asyncio.run(health.run_checks({"database": _ok}, timeout=timeout))
    with pytest.raises(ValueError, match="timeout"):
        health.health_router("orders", BUILD, {}, timeout=timeout)


def test_liveness_checks_nothing_else(call) -> None:
    calls: list[str] = []

    async def counted_down() -> None:
        calls.append("database")
        raise ConnectionError("down")

    reply = _get(call, _app({"database": counted_down}), "/health/live")
    assert reply.status == 200, (
        "/health/live answers 200 {'status': 'ok'} while the process runs, even when a "
        "dependency is down: a failing liveness probe restarts the process, which cures nothing"
    )
    assert reply.json() == {"status": "ok"}, (
        "/health/live answers 200 {'status': 'ok'} while the process runs, even when a "
        "dependency is down: a failing liveness probe restarts the process, which cures nothing"
    )
    assert calls == [], "/health/live must not run the dependency checks"


def test_readiness_is_200_when_every_check_passes(call) -> None:
    reply = _get(call, _app({"database": _ok, "redis": _ok}), "/health/ready")
    assert reply.status == 200
    assert reply.json() == {"status": "ok", "checked": ["database", "redis"]}
    assert reply.header("cache-control") == "no-store", "a health answer must never be cached"


def test_readiness_is_503_naming_the_failing_checks_without_their_messages(call) -> None:
    app = _app({"database": _down, "redis": _ok, "broker": _hangs}, timeout=0.2)
    reply = _get(call, app, "/health/ready")
    assert reply.status == 503, "a failing dependency makes the service not ready: 503"
    assert reply.json() == {
        "status": "unavailable",
        "failing": {"database": "ConnectionError", "broker": "TimeoutError"},
    }
    assert SECRET not in reply.body.decode(), (
        "the error message of a check (here a connection string with a password) must never "
        "appear in a health answer: give the exception's class name only"
    )


def test_status_shows_the_build_the_uptime_and_each_dependency(call) -> None:
    now = [1000.0]
    app = _app({"database": _ok, "redis": _down}, clock=lambda: now[0])
    now[0] = 1060.5
    reply = _get(call, app, "/status")
    assert reply.status == 200, "/status answers 200 even when degraded: it is for people"
    body = reply.json()
    assert {k: body[k] for k in ("service", "version", "commit", "built_at", "python")} == {
        "service": "orders",
        "version": "1.4.2",
        "commit": "9fceb02",
        "built_at": "2025-01-31T09:00:00Z",
        "python": platform.python_version(),
    }
    assert body["uptime_seconds"] == pytest.approx(60.5), (
        "uptime_seconds = clock() now - clock() when the router was made; use the clock given"
    )
    assert body["status"] == "degraded", "a failing dependency makes the status 'degraded'"
    database, redis = body["dependencies"]["database"], body["dependencies"]["redis"]
    assert database["ok"] is True
    assert database["error"] is None
    assert database["latency_ms"] >= 0
    assert redis["ok"] is False
    assert redis["error"] == "ConnectionError"
    assert SECRET not in reply.body.decode()


def test_with_no_checks_the_service_is_ready(call) -> None:
    async def main():
        app = _app({})
        return await call(app, "GET", "/health/ready"), await call(app, "GET", "/status")

    ready, status = asyncio.run(main())
    assert ready.status == 200
    assert ready.json()["status"] == "ok"
    assert status.json()["status"] == "ok"
    assert status.json()["dependencies"] == {}


def test_build_info_is_exported_as_a_metric() -> None:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    health.register_build_info(registry, "orders", BUILD)
    value = registry.get_sample_value(
        "service_build_info", {"service": "orders", "version": "1.4.2", "commit": "9fceb02"}
    )
    assert value == 1.0, (
        "service_build_info{service, version, commit} 1: a dashboard can show which build runs "
        "where (prometheus_client.Info('service_build', ...) in the registry given)"
    )
