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

import asyncio  # noqa: F401 - you will need it
import platform  # noqa: F401 - you will need it
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from fastapi import APIRouter
from fastapi.responses import JSONResponse  # noqa: F401 - you will need it
from prometheus_client import CollectorRegistry, Info  # noqa: F401 - you will need Info

# A dependency check: an async function that returns when the dependency answers and raises
# when it does not (given). E.g. `async def database() -> None: await db.execute("SELECT 1")`.
Check = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class BuildInfo:
    """What was built: a version, the commit it came from, and when (None if unknown)."""

    version: str
    commit: str = "unknown"
    built_at: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> BuildInfo:
        """From BUILD_VERSION, BUILD_COMMIT and BUILD_DATE in ``env`` (pass ``os.environ``);
        a missing or blank one gets its default: version "dev", commit "unknown",
        built_at None."""
        raise NotImplementedError("09.6: read the three variables, blank counts as missing")


@dataclass(frozen=True)
class CheckResult:
    """One dependency check: did it pass, the error's type name if not, how long it took."""

    ok: bool
    error: str | None
    latency_ms: float


async def run_checks(checks: Mapping[str, Check], timeout: float) -> dict[str, CheckResult]:
    """Runs every check at the same time, each under ``timeout`` seconds; ``{name: result}``
    in the order of ``checks``.

    - A check that returns: ``CheckResult(ok=True, error=None, latency_ms=...)``.
    - A check that raises an Exception: ``ok=False`` and ``error`` the exception's class name
      (``"ConnectionError"``) - only the name, never the message.
    - A check that takes longer than ``timeout``: ``ok=False, error="TimeoutError"``.
    - ``latency_ms``: how long the check took, in milliseconds.

    A ``timeout`` that is not > 0 raises ValueError mentioning "timeout".
    """
    raise NotImplementedError("09.6: one timed coroutine per check, all at once with gather")


def health_router(
    service: str,
    build: BuildInfo,
    checks: Mapping[str, Check],
    *,
    timeout: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
) -> APIRouter:
    """``app.include_router(health_router(...))`` adds three GET routes. Every answer is JSON
    with the header ``Cache-Control: no-store``.

    - ``/health/live``: 200 ``{"status": "ok"}``, without running any check.
    - ``/health/ready``: runs the checks (`run_checks` with ``timeout``). All pass: 200
      ``{"status": "ok", "checked": [names...]}``. Any fails: 503
      ``{"status": "unavailable", "failing": {name: error type name, ...}}``.
    - ``/status``: always 200, ``{"service", "version", "commit", "built_at", "python"
      (platform.python_version()), "uptime_seconds" (clock() now minus clock() when the router
      was made), "status" ("ok", or "degraded" when a check fails), "dependencies": {name:
      {"ok", "error", "latency_ms"}}}``.

    ``clock`` is injected so tests can move time. A ``timeout`` that is not > 0 raises
    ValueError mentioning "timeout" when the router is made.
    """
    raise NotImplementedError("09.6: an APIRouter with /health/live, /health/ready, /status")


def register_build_info(registry: CollectorRegistry, service: str, build: BuildInfo) -> None:
    """Exports ``service_build_info{service="...", version="...", commit="..."} 1`` in
    ``registry`` (``prometheus_client.Info`` named "service_build")."""
    raise NotImplementedError("09.6: an Info metric in the registry given")
