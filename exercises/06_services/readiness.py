"""06.2 Liveness and readiness: health endpoints that never hang.

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

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

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
        raise NotImplementedError("06.2: refuse a timeout_seconds that is not positive")


@dataclass(frozen=True)
class Readiness:
    """The verdict (given): ``ready`` when every check passed; ``checks`` maps each
    dependency's name to ``"ok"`` or to why it failed."""

    ready: bool
    checks: dict[str, str]


async def check_readiness(dependencies: Sequence[Dependency]) -> Readiness:
    """Runs every check concurrently, each within its own timeout.

    - ``checks[name]`` is ``"ok"``, or ``"timed out after {timeout_seconds}s"`` (e.g.
      ``"timed out after 0.2s"``), or ``"{ExceptionType}: {message}"`` for a check that raised
      (e.g. ``"ConnectionError: refused"``).
    - The whole call takes about as long as the slowest check, never longer than the largest
      timeout: checks run at the same time, not one after another.
    - No dependencies at all: ready, with empty checks.
    """
    raise NotImplementedError("06.2: run every check at once, each with its own timeout")


def redis_dependency(client: Any, timeout_seconds: float = 1.0) -> Dependency:
    """A Dependency named ``"redis"`` whose check sends PING with ``client`` (a
    ``redis.asyncio.Redis``)."""
    raise NotImplementedError("06.2: a Dependency whose check awaits client.ping()")


def create_app(dependencies: Sequence[Dependency]) -> FastAPI:
    """A FastAPI app with the two probes.

    - ``GET /health/live``: always 200 ``{"status": "alive"}``; it runs no check.
    - ``GET /health/ready``: 200 ``{"status": "ready", "checks": {...}}`` when every check
      passes, else 503 ``{"status": "not ready", "checks": {...}}``, with ``checks`` as in
      ``check_readiness``.

    Two dependencies with the same name are a ValueError ("dependency names must be unique").
    """
    raise NotImplementedError("06.2: a FastAPI app with /health/live and /health/ready")
