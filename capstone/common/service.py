"""What every FastAPI service shares: the app skeleton, uvicorn with a clean SIGTERM, the CLI.

Lessons 03 (FastAPI app), 09 (metrics, health, JSON logs) and 12 (graceful shutdown); the
settings every service shares are checked at start by lesson 01's piece (exercise 01.9,
``service_settings``, through capstone.pieces).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import sys
from collections.abc import Callable, Coroutine, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import ValidationError

from capstone.common import tracing
from capstone.common.health import Check, health_router
from capstone.common.internal import InternalTokenMiddleware, has_internal_token
from capstone.common.limits import RequestLimitsMiddleware, with_header_timeout
from capstone.common.logging import get_logger
from capstone.common.observability import (
    instrument,
    metrics_response,
    setup_telemetry,
    shutdown_telemetry,
)
from capstone.common.problems import document_problems, install_problem_handlers, problem_response
from capstone.common.secrets import new_secret
from capstone.common.settings import ServiceSettings
from capstone.pieces import piece

T = TypeVar("T")
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
KEEP_ALIVE_SECONDS = 5
_PLACEHOLDER_SECRETS = {"jwt_secret": new_secret(), "internal_token": new_secret()}


def create_app(
    service: str,
    *,
    lifespan: Lifespan | None,
    checks: Mapping[str, Check],
    internal_token: str | None = None,
    public: bool = False,
    **fastapi_kwargs: Any,
) -> FastAPI:
    """A FastAPI app with problem+json errors, request ids, RED metrics, health routes and
    request limits.

    ``internal_token``: an internal service answers only callers that carry it (the gateway);
    health and metrics stay open. With ``public`` (the gateway) anyone may call the app, and the
    token instead guards ``/metrics`` and readiness details, which are not for the public."""
    app = FastAPI(
        title=f"shop {service}",
        lifespan=lifespan,
        # lesson 09's middleware makes the SERVER span: FastAPI's own telemetry would double it
        # once the piece's tracer provider is the global one
        telemetry={"tracing": False, "metrics": False, "logs": False},
        **fastapi_kwargs,
    )
    install_problem_handlers(app)
    document_problems(app)
    if internal_token and not public:
        app.add_middleware(InternalTokenMiddleware, token=internal_token)
    app.add_middleware(RequestLimitsMiddleware)
    instrument(app, service)  # outermost: the request id on every answer
    if public:
        token = internal_token or ""

        def insider(request: Request) -> bool:
            return bool(token) and has_internal_token(request.scope, token)

        async def private_metrics(request: Request) -> Response:
            if not insider(request):
                return problem_response(404, "Not Found", instance=request.url.path)
            return await metrics_response()

        app.include_router(health_router(checks, details_allowed=insider))
        app.add_api_route("/metrics", private_metrics, methods=["GET"], include_in_schema=False)
    else:
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
        timeout_keep_alive=KEEP_ALIVE_SECONDS,  # an idle connection is closed after this
        lifespan="on",
    )
    config.load()
    config.http_protocol_class = with_header_timeout(config.http_protocol_class)
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
    # Everything built so far (modules, the app, its routes and models) lives as long as the
    # process: move it out of the garbage collector's sight, so a full collection under load
    # scans only what requests create, and a request never waits tens of milliseconds on it.
    gc.collect()
    gc.freeze()
    run_loop(server.serve())
    if not server.started:
        sys.exit(3)


def run_cli(
    service: str,
    settings_factory: Callable[..., ServiceSettings],  # reads the environment
    serve: Callable[[Any], None],
    migrations_dir: Path | None,
    argv: list[str] | None = None,
) -> None:
    """``python -m capstone.<service> [migrate|serve]``; heavy imports happen inside ``serve``."""
    parser = argparse.ArgumentParser(prog=f"python -m capstone.{service}")
    parser.add_argument("command", nargs="?", choices=["migrate", "serve"], default="serve")
    args = parser.parse_args(argv)
    try:
        # migrating needs the database only: the secrets a server needs are not asked for
        settings = (
            settings_factory(**_PLACEHOLDER_SECRETS)
            if args.command == "migrate"
            else settings_factory()
        )
    except ValidationError as error:
        _refuse_to_start(service, error)
    shared = _shared_settings(service, settings)
    # spans only for a server: a migration is one short command
    setup_telemetry(service, shared.log_level, settings if args.command == "serve" else None)
    log = get_logger(f"capstone.{service}")
    if args.command == "migrate":
        if migrations_dir is not None:
            from capstone.common.db import migrate

            migrate(migrations_dir, settings.database_url)
        log.info("migrated", database=shared.as_dict()["database_url"])
        return
    log.info(
        "starting",
        host=settings.service_host,
        port=settings.service_port,
        tracing=tracing.enabled(),
    )
    try:
        serve(settings)
        log.info("stopped")
    finally:
        shutdown_telemetry()


def _refuse_to_start(service: str, error: ValidationError) -> None:
    """Exits with status 2 and says which setting is wrong, never what its value was: the
    value may be a secret (pydantic's own message would print it)."""
    setup_telemetry(service)
    problems = [
        f"{'.'.join(str(part) for part in e['loc']).upper()}: {e['msg']}"
        for e in error.errors(include_input=False, include_url=False)
    ]
    get_logger(f"capstone.{service}").error("refusing to start", problems=problems)
    sys.exit(2)


def _shared_settings(service: str, settings: ServiceSettings) -> Any:
    """What every service shares (where it listens, how loud it logs, its database and Redis),
    checked by lesson 01's piece: every wrong variable is named at once, with what a good value
    looks like, and the service exits with status 2. Its ``as_dict()`` hides URL passwords."""
    lesson = piece("service_settings")
    try:
        return lesson.ServiceSettings(
            service=service,
            database_url=settings.database_url,
            host=settings.service_host,
            port=settings.service_port,
            log_level=settings.log_level.upper(),
            redis_url=settings.redis_url,
        )
    except lesson.SettingsError as error:
        setup_telemetry(service)
        problems = [f"{name}: {problem}" for name, problem in error.problems.items()]
        get_logger(f"capstone.{service}").error("refusing to start", problems=problems)
        sys.exit(2)
