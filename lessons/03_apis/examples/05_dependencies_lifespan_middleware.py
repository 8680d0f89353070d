"""Dependencies with Depends (and overriding them in a test), a lifespan, a middleware, and what
`async def` versus `def` means for a route that blocks.

Run: uv run python lessons/03_apis/examples/05_dependencies_lifespan_middleware.py
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Header, HTTPException, Request, Response

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2 for its TestClient; httpx works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

events: list[str] = []  # what happened, in order, printed at the end of each part


class Database:
    """Stands in for a connection pool: opened once at start-up, closed at shutdown."""

    def __init__(self, name: str) -> None:
        self.name = name
        events.append(f"open {name}")

    def query(self, sql: str) -> str:
        return f"{self.name} ran {sql!r}"

    def close(self) -> None:
        events.append(f"close {self.name}")


# -- dependencies: functions FastAPI calls for each request, and caches within one request ----
def get_db(request: Request) -> Database:
    db: Database = request.app.state.db  # opened by the lifespan below
    return db


def get_user(authorization: Annotated[str | None, Header()] = None) -> str:
    if authorization != "Bearer secret-token":
        raise HTTPException(401, "not authenticated", headers={"WWW-Authenticate": "Bearer"})
    return "ada"


def audit_log(user: Annotated[str, Depends(get_user)]) -> Iterator[list[str]]:
    """A dependency with `yield`: the code after it runs once the response is sent."""
    entries: list[str] = []
    yield entries
    events.append(f"audit for {user}: {entries}")


# -- lifespan: open shared resources before the first request, close them after the last ------
@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.db = Database("main")
    try:
        yield
    finally:
        app.state.db.close()


def create_app() -> FastAPI:
    app = FastAPI(lifespan=lifespan)

    # -- middleware: wraps every request, errors included ---------------------------------------
    @app.middleware("http")
    async def timing(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
        return response

    @app.get("/report")
    def report(
        user: Annotated[str, Depends(get_user)],
        db: Annotated[Database, Depends(get_db)],
        audit: Annotated[list[str], Depends(audit_log)],
    ) -> dict[str, str]:
        audit.append("read the report")
        return {"user": user, "result": db.query("SELECT 1")}

    return app


def part_one() -> None:
    print("-- dependencies, a lifespan and a middleware")
    app = create_app()
    with TestClient(app) as client:  # `with` runs the lifespan: start-up, then shutdown
        ok = client.get("/report", headers={"Authorization": "Bearer secret-token"})
        print("with a token:   ", ok.status_code, ok.json(), "|", ok.headers["server-timing"])
        refused = client.get("/report")
        print(
            "without a token:",
            refused.status_code,
            refused.json(),
            "|",
            refused.headers["server-timing"],
        )
    print("events:", events)
    events.clear()

    print("\n-- a test overrides the dependencies: no token, another database")
    app.dependency_overrides[get_user] = lambda: "test-user"
    app.dependency_overrides[get_db] = lambda: Database("test")
    with TestClient(app) as client:
        print("overridden:     ", client.get("/report").json())
    app.dependency_overrides.clear()
    print("events:", events)


# -- async def versus def: where a blocking call runs ------------------------------------------
def blocking_app() -> FastAPI:
    app = FastAPI()

    @app.get("/async-blocking")
    async def async_blocking() -> str:
        time.sleep(0.1)  # blocks the event loop: no other request can run meanwhile
        return "done"

    @app.get("/def-blocking")
    def def_blocking() -> str:
        time.sleep(0.1)  # runs in a worker thread: the event loop keeps serving others
        return "done"

    @app.get("/async-awaiting")
    async def async_awaiting() -> str:
        await asyncio.sleep(0.1)  # yields to the event loop while it waits
        return "done"

    return app


async def ten_at_once(app: FastAPI, path: str) -> float:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://example") as client:
        started = time.perf_counter()
        await asyncio.gather(*(client.get(path) for _ in range(10)))
        return time.perf_counter() - started


def part_two() -> None:
    print("\n-- ten concurrent requests to a route that waits 0.1 s")
    app = blocking_app()
    for path in ["/async-blocking", "/def-blocking", "/async-awaiting"]:
        seconds = asyncio.run(ten_at_once(app, path))
        print(f"{path:16} {seconds:5.2f} s")
    print("-> `async def` + a blocking call serialises every request; use `def` for blocking")
    print("   work (FastAPI runs it in a thread pool), and `async def` only with `await`")


if __name__ == "__main__":
    part_one()
    part_two()
