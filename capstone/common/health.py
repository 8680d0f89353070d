"""Liveness and readiness (lessons 06 and 09): live = the process runs; ready = its
dependencies answer.

Readiness checks only the service's *own* dependencies, each with a short timeout, and names the
failing one in a 503 so an operator (or the runner) knows what to look at. The checks run in
lesson 09's ``run_checks`` (exercise 09.6, under the 09.8 piece): concurrently, each under the
timeout, a failure named by its error's type, never its message (a message may carry a
connection string). The router is the shop's: at the public gateway, only insiders learn what
was checked and what fails.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from capstone.common.db import Database
from capstone.pieces import lesson_module

Check = Callable[[], Awaitable[Any]]
CHECK_TIMEOUT_SECONDS = 2.0


async def run_checks(checks: Mapping[str, Check]) -> dict[str, str]:
    """Runs every check at once; returns ``{name: error type}`` for those that failed."""
    lesson = lesson_module("telemetry", "health")
    results = await lesson.run_checks(checks, CHECK_TIMEOUT_SECONDS)
    return {name: str(result.error) for name, result in results.items() if not result.ok}


def health_router(
    checks: Mapping[str, Check], details_allowed: Callable[[Request], bool] | None = None
) -> APIRouter:
    """``/health/live`` and ``/health/ready``. With ``details_allowed``, readiness names what it
    checked and what fails only to the callers it allows (the public gateway's case): anyone
    else learns ok or unavailable, not which database or host is behind it."""
    router = APIRouter(prefix="/health", tags=["health"], include_in_schema=details_allowed is None)

    @router.get("/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/ready")
    async def ready(request: Request) -> JSONResponse:
        failing = await run_checks(checks)
        if details_allowed is not None and not details_allowed(request):
            status = "unavailable" if failing else "ok"
            return JSONResponse({"status": status}, status_code=503 if failing else 200)
        if failing:
            return JSONResponse({"status": "unavailable", "failing": failing}, status_code=503)
        return JSONResponse({"status": "ok", "checked": list(checks)})

    return router


def database_check(db: Database) -> Check:
    return db.ping


def redis_check(client: Any) -> Check:
    async def check() -> None:
        await client.ping()

    return check
