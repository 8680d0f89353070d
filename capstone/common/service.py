"""What every FastAPI service shares: the app skeleton, uvicorn with a clean SIGTERM, the CLI.

Lessons 03 (FastAPI app), 09 (metrics, health, JSON logs) and 12 (graceful shutdown).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI

from capstone.common.health import Check, health_router
from capstone.common.logging import configure_logging, get_logger
from capstone.common.observability import RequestContextMiddleware, metrics_response
from capstone.common.problems import install_problem_handlers
from capstone.common.settings import ServiceSettings

T = TypeVar("T")
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(
    service: str,
    *,
    lifespan: Lifespan | None,
    checks: Mapping[str, Check],
    **fastapi_kwargs: Any,
) -> FastAPI:
    """A FastAPI app with problem+json errors, request ids, RED metrics and health routes."""
    app = FastAPI(title=f"shop {service}", lifespan=lifespan, **fastapi_kwargs)
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, service=service)
    app.include_router(health_router(checks))
    app.add_api_route("/metrics", metrics_response, methods=["GET"], include_in_schema=False)
    return app


async def stop_task(task: asyncio.Task[Any], timeout: float, *, cancel: bool = True) -> None:
    """Stops a background task within ``timeout`` seconds, whatever it is blocked on: shutdown
    must never hang on a task (lesson 12). Without ``cancel`` it first gets a chance to finish."""
    if not cancel:
        await asyncio.wait({task}, timeout=timeout)
    task.cancel()
    await asyncio.wait({task}, timeout=timeout)


def server_for(app: Any, host: str, port: int, settings: ServiceSettings) -> Any:
    import uvicorn

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,  # our JSON logging is already installed on the root logger
        access_log=False,  # the middleware logs each request, with its request id
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        lifespan="on",
    )
    return uvicorn.Server(config)


def stop_on_signals(server: Any) -> None:
    """SIGTERM/SIGINT make ``server`` (uvicorn) shut down gracefully, from the very start.

    Uvicorn installs its own handlers only once it serves: a signal that arrives earlier (during
    start-up) lands here and sets the same flag, so uvicorn starts, then stops at once. After a
    graceful shutdown uvicorn re-raises the signal it handled, to the handler found before it:
    here that is harmless, so a clean shutdown exits with status 0."""

    def handler(signum: int, _: object) -> None:
        server.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on uvloop where it is installed (not on Windows): its event loop is
    written in C, and every service spends much of its time in the loop's own code."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def serve_app(app: FastAPI, settings: ServiceSettings) -> None:
    server = server_for(app, settings.service_host, settings.service_port, settings)
    stop_on_signals(server)
    run_loop(server.serve())
    if not server.started:
        sys.exit(3)


def run_cli(
    service: str,
    settings_factory: Callable[[], ServiceSettings],
    serve: Callable[[Any], None],
    migrations_dir: Path | None,
    argv: list[str] | None = None,
) -> None:
    """``python -m capstone.<service> [migrate|serve]``; heavy imports happen inside ``serve``."""
    parser = argparse.ArgumentParser(prog=f"python -m capstone.{service}")
    parser.add_argument("command", nargs="?", choices=["migrate", "serve"], default="serve")
    args = parser.parse_args(argv)
    settings = settings_factory()
    configure_logging(service, settings.log_level.upper())
    log = get_logger(f"capstone.{service}")
    if args.command == "migrate":
        if migrations_dir is not None:
            from capstone.common.db import migrate

            migrate(migrations_dir, settings.database_url)
        log.info("migrated", database=_redacted(settings.database_url))
        return
    log.info("starting", host=settings.service_host, port=settings.service_port)
    serve(settings)
    log.info("stopped")


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
