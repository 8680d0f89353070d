"""Liveness and readiness (lessons 06 and 09): live = the process runs; ready = its
dependencies answer.

Readiness checks only the service's *own* dependencies, each with a short timeout, and names the
failing one in a 503 so an operator (or the runner) knows what to look at.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from capstone.common.db import Database

Check = Callable[[], Awaitable[Any]]
CHECK_TIMEOUT_SECONDS = 2.0


async def run_checks(checks: Mapping[str, Check]) -> dict[str, str]:
    """Runs every check at once; returns ``{name: why}`` for those that failed."""

    async def one(check: Check) -> str | None:
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
        except Exception as error:
            return f"{type(error).__name__}: {error}"[:300]
        return None

    results = await asyncio.gather(*(one(check) for check in checks.values()))
    return {name: why for name, why in zip(checks, results, strict=True) if why is not None}


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
