"""09.6 Health and status endpoints with build information and dependency checks.

Three routes, three audiences:

- ``GET /health/live`` - for the process manager (Kubernetes' liveness probe, compose): "is this
  process able to answer at all?" It checks nothing else. If it failed whenever the database is
  down, every replica would be restarted at once, and that cures nothing.
- ``GET /health/ready`` - for the load balancer: "should traffic come here now?" It runs the
  service's own dependency checks (database, Redis, ...) concurrently, each under a timeout, and
  answers 503 naming the failing ones.
- ``GET /status`` - for a person: which build is running (version, commit), for how long, on
  which Python, and how each dependency is doing, with its latency.

A health answer is public. It names a failing check and the *type* of its error, never the error
message: messages carry connection strings, host names and sometimes passwords.
"""

from __future__ import annotations

import asyncio
import platform
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Info

Check = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class BuildInfo:
    """What was built: a version, the commit it came from, and when (None if unknown)."""

    version: str
    commit: str = "unknown"
    built_at: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> BuildInfo:
        """From BUILD_VERSION, BUILD_COMMIT and BUILD_DATE; a missing or blank one gets its
        default: version "dev", commit "unknown", built_at None."""

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        return cls(
            version=get("BUILD_VERSION") or "dev",
            commit=get("BUILD_COMMIT") or "unknown",
            built_at=get("BUILD_DATE"),
        )


@dataclass(frozen=True)
class CheckResult:
    """One dependency check: did it pass, the error's type name if not, how long it took."""

    ok: bool
    error: str | None
    latency_ms: float


async def _run_one(check: Check, timeout: float) -> CheckResult:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            await check()
    except Exception as error:  # TimeoutError included; CancelledError goes on up
        elapsed = (time.perf_counter() - started) * 1000
        return CheckResult(ok=False, error=type(error).__name__, latency_ms=elapsed)
    return CheckResult(ok=True, error=None, latency_ms=(time.perf_counter() - started) * 1000)


async def run_checks(checks: Mapping[str, Check], timeout: float) -> dict[str, CheckResult]:
    """Runs every check at once, each under ``timeout`` seconds; ``{name: result}``."""
    if timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, not {timeout}")
    results = await asyncio.gather(*(_run_one(check, timeout) for check in checks.values()))
    return dict(zip(checks, results, strict=True))


def health_router(
    service: str,
    build: BuildInfo,
    checks: Mapping[str, Check],
    *,
    timeout: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
) -> APIRouter:
    """``app.include_router(health_router(...))`` adds /health/live, /health/ready and /status."""
    if timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, not {timeout}")
    started = clock()
    router = APIRouter(tags=["health"])
    no_store = {"Cache-Control": "no-store"}  # a cached health answer is a wrong one

    @router.get("/health/live")
    async def live() -> JSONResponse:
        return JSONResponse({"status": "ok"}, headers=no_store)

    @router.get("/health/ready")
    async def ready() -> JSONResponse:
        results = await run_checks(checks, timeout)
        failing = {name: r.error for name, r in results.items() if not r.ok}
        if failing:
            body: dict[str, Any] = {"status": "unavailable", "failing": failing}
            return JSONResponse(body, status_code=503, headers=no_store)
        return JSONResponse({"status": "ok", "checked": list(checks)}, headers=no_store)

    @router.get("/status")
    async def status() -> JSONResponse:
        results = await run_checks(checks, timeout)
        return JSONResponse(
            {
                "service": service,
                "version": build.version,
                "commit": build.commit,
                "built_at": build.built_at,
                "python": platform.python_version(),
                "uptime_seconds": round(clock() - started, 3),
                "status": "ok" if all(r.ok for r in results.values()) else "degraded",
                "dependencies": {
                    name: {"ok": r.ok, "error": r.error, "latency_ms": round(r.latency_ms, 3)}
                    for name, r in results.items()
                },
            },
            headers=no_store,
        )

    return router


def register_build_info(registry: CollectorRegistry, service: str, build: BuildInfo) -> None:
    """Exports ``service_build_info{service, version, commit} 1`` in ``registry``."""
    info = Info("service_build", "The build this service runs", registry=registry)
    info.info({"service": service, "version": build.version, "commit": build.commit})
