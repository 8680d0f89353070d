"""Answers 200 with status 'not ready': a load balancer keeps sending traffic.

An orchestrator (Kubernetes, a load balancer, the capstone's runner) asks a service two
different questions:

- **live?** ``GET /health/live`` - is the process able to answer at all? If not, restart it.
  It must not look at dependencies: a database outage would otherwise restart every instance
  of every service that uses it, which fixes nothing.
- **ready?** ``GET /health/ready`` - can it serve requests now? If not, send traffic
  elsewhere until it is. It runs every dependency's check, *all at once*, each within its own
  timeout, so one hanging dependency makes the answer "not ready" within that timeout instead
  of hanging the probe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

Check = Callable[[], Awaitable[object]]
OK = "ok"


@dataclass(frozen=True)
class Dependency:
    """One thing the service needs: a name, an async check and how long the check may take.

    The check passes when it returns (whatever it returns) within ``timeout_seconds``, and
    fails when it raises or runs longer. ``timeout_seconds`` must be positive: anything else is a
    ValueError whose message contains "timeout_seconds must be positive".
    """

    name: str
    check: Check
    timeout_seconds: float = 1.0

    def __post_init__(self) -> None:
        if not self.timeout_seconds > 0:
            raise ValueError(
                f"timeout_seconds must be positive, got {self.timeout_seconds!r} for {self.name!r}"
            )


@dataclass(frozen=True)
class Readiness:
    """The verdict (given): ``ready`` when every check passed; ``checks`` maps each
    dependency's name to ``"ok"`` or to why it failed."""

    ready: bool
    checks: dict[str, str]


async def _run(dependency: Dependency) -> str:
    try:
        async with asyncio.timeout(dependency.timeout_seconds):
            await dependency.check()
    except TimeoutError:
        return f"timed out after {dependency.timeout_seconds}s"
    except Exception as error:  # a failing check is an answer, not a crash of the probe
        return f"{type(error).__name__}: {error}"
    return OK


async def check_readiness(dependencies: Sequence[Dependency]) -> Readiness:
    """Runs every check concurrently, each within its own timeout.

    - ``checks[name]`` is ``"ok"``, or ``"timed out after {timeout_seconds}s"`` (e.g.
      ``"timed out after 0.2s"``), or ``"{ExceptionType}: {message}"`` for a check that raised
      (e.g. ``"ConnectionError: refused"``).
    - The whole call takes about as long as the slowest check, never longer than the largest
      timeout: checks run at the same time, not one after another.
    - No dependencies at all: ready, with empty checks.
    """
    results = await asyncio.gather(*(_run(dependency) for dependency in dependencies))
    checks = {
        dependency.name: result for dependency, result in zip(dependencies, results, strict=True)
    }
    return Readiness(ready=all(result == OK for result in results), checks=checks)


def redis_dependency(client: Any, timeout_seconds: float = 1.0) -> Dependency:
    """A Dependency named ``"redis"`` whose check sends PING with ``client`` (a
    ``redis.asyncio.Redis``)."""

    async def ping() -> None:
        await client.ping()

    return Dependency("redis", ping, timeout_seconds)


def create_app(dependencies: Sequence[Dependency]) -> FastAPI:
    """A FastAPI app with the two probes.

    - ``GET /health/live``: always 200 ``{"status": "alive"}``; it runs no check.
    - ``GET /health/ready``: 200 ``{"status": "ready", "checks": {...}}`` when every check
      passes, else 503 ``{"status": "not ready", "checks": {...}}``, with ``checks`` as in
      ``check_readiness``.

    Two dependencies with the same name are a ValueError ("dependency names must be unique").
    """
    names = [dependency.name for dependency in dependencies]
    if len(set(names)) != len(names):
        raise ValueError(f"dependency names must be unique, got {names}")
    app = FastAPI(title="health")

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/health/ready")
    async def ready() -> JSONResponse:
        verdict = await check_readiness(dependencies)
        status = "ready" if verdict.ready else "not ready"
        return JSONResponse(
            {"status": status, "checks": verdict.checks},
            status_code=200,
        )

    return app
