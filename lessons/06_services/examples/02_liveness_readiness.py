"""Liveness and readiness probes, and why every dependency check needs its own timeout.

    uv run python lessons/06_services/examples/02_liveness_readiness.py

A FastAPI service depends on Redis (real, answers PING) and on a search engine that hangs (its
check never returns, as happens when a server accepts connections but never answers). The
example asks the service's probes through httpx, in this process, the way an orchestrator would:

- a naive readiness probe awaits the checks one by one with no timeout: it hangs;
- a careful one runs them at once, each under its own timeout: "not ready" in about 0.3 s,
  naming the dependency at fault;
- the liveness probe looks at no dependency, so it answers at once: the process is fine, do not
  restart it.

Needs Redis (JOURNEY_REDIS_URL).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable

import httpx
import redis.asyncio as aioredis
from fastapi import FastAPI
from fastapi.responses import JSONResponse

REDIS_URL = os.environ.get("JOURNEY_REDIS_URL") or "redis://127.0.0.1:6379/0"
Check = Callable[[], Awaitable[object]]


async def search_engine_check() -> None:
    await asyncio.Event().wait()  # never set: this dependency hangs


def build_app(checks: dict[str, tuple[Check, float]]) -> FastAPI:
    app = FastAPI()

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "alive"}  # no dependency here, on purpose

    @app.get("/health/ready-naive")
    async def ready_naive() -> dict[str, str]:
        for check, _ in checks.values():  # one after another, no timeout: a hang hangs the probe
            await check()
        return {"status": "ready"}

    async def run_one(check: Check, timeout: float) -> str:
        try:
            async with asyncio.timeout(timeout):
                await check()
        except TimeoutError:
            return f"timed out after {timeout}s"
        except Exception as error:
            return f"{type(error).__name__}: {error}"
        return "ok"

    @app.get("/health/ready")
    async def ready() -> JSONResponse:
        results = await asyncio.gather(*(run_one(c, t) for c, t in checks.values()))
        verdict = dict(zip(checks, results, strict=True))
        ok = all(result == "ok" for result in results)
        body = {"status": "ready" if ok else "not ready", "checks": verdict}
        return JSONResponse(body, status_code=200 if ok else 503)

    return app


async def probe(client: httpx.AsyncClient, path: str, patience: float) -> None:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(patience):  # the orchestrator's own patience
            response = await client.get(path)
    except TimeoutError:
        print(f"GET {path:<20} no answer after {patience}s: the probe itself hangs")
        return
    elapsed = time.perf_counter() - started
    print(f"GET {path:<20} {response.status_code} in {elapsed:.2f}s {response.json()}")


async def main() -> None:
    redis = aioredis.Redis.from_url(REDIS_URL)
    try:
        app = build_app({"redis": (redis.ping, 0.5), "search": (search_engine_check, 0.3)})
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            await probe(client, "/health/ready-naive", patience=1.0)
            await probe(client, "/health/ready", patience=1.0)
            await probe(client, "/health/live", patience=1.0)
    finally:
        await redis.aclose()
    print(
        "503 says 'send traffic elsewhere for now'; a failing liveness probe would say 'restart me'"
    )


if __name__ == "__main__":
    asyncio.run(main())
