"""Every service's logs, request ids and RED metrics: lesson 09's piece (exercise 09.8).

The piece does the work: JSON logs from structlog and the standard library, and one pure ASGI
middleware per app (a checked ``X-Request-ID``, set for the request and echoed; RED metrics by
route template, ``http_requests_total{method,route,status}`` and
``http_request_duration_seconds{method,route}``; one ``request`` log line). This module is the
glue: one set-up per process with its service name, level and exporters (from the settings,
:mod:`capstone.common.tracing`), the middleware on each app, and what only the shop needs:

- the path the client asked for, in :data:`request_path` (the gateway names it in the problems
  it passes on);
- an unhandled error answered with the shop's 500 problem (:class:`CrashAnswer`), inside the
  piece's middleware so that it carries the request id like every answer;
- ``/metrics`` in the process's default registry, where the piece's metrics live.
"""

from __future__ import annotations

import logging
import os
from contextvars import ContextVar
from typing import Any

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from capstone.common import tracing
from capstone.common.logging import get_logger
from capstone.common.problems import crash_response
from capstone.common.settings import ServiceSettings
from capstone.pieces import piece

# the path the client asked for: the gateway names it in the problems it passes on
request_path: ContextVar[str] = ContextVar("request_path", default="")
# libraries that log a line per call: their warnings are worth a line, the rest is noise
QUIET_LOGGERS = ("uvicorn.access", "httpx", "httpcore", "alembic")
log = get_logger("capstone.http")
_telemetry: Any = None  # the process's set-up: lesson 09's Telemetry


def setup_telemetry(
    service: str, level: str = "INFO", settings: ServiceSettings | None = None
) -> Any:
    """This process's telemetry, set up once at start-up: JSON logs on stdout, the RED metrics
    in the default registry that ``/metrics`` serves, and - when ``settings`` name a trace file
    or an OTLP endpoint - spans sent there. A second call replaces the logs and metrics, but
    OpenTelemetry keeps the first global tracer provider a process installs: trace once."""
    global _telemetry
    lesson = piece("telemetry")
    if _telemetry is not None:
        _telemetry.close()
    # the piece takes one exporter; a second one (file *and* OTLP) joins its provider after
    exporters = tracing.exporters_for(settings) if settings is not None else []
    first = exporters[0] if exporters else None
    _telemetry = lesson.setup_telemetry(
        service,
        build=lesson.BuildInfo.from_env(os.environ),
        registry=REGISTRY,
        exporter=first,
        batch=first is not None and tracing.batched(first),
        level=level,
    )
    for other in exporters[1:]:
        _telemetry.tracer_provider.add_span_processor(tracing.processor_for(other))
    if exporters:
        tracing.install(_telemetry.tracer_provider)
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)
    return _telemetry


def telemetry(service: str) -> Any:
    """The process's telemetry; set up for ``service`` when nothing was (an app that a test
    builds in its own process)."""
    return _telemetry if _telemetry is not None else setup_telemetry(service)


def shutdown_telemetry() -> None:
    """At exit: the spans still batched are sent, and logging is put back."""
    global _telemetry
    if _telemetry is not None:
        _telemetry.close()
        _telemetry = None


def instrument(app: FastAPI, service: str) -> None:
    """Adds, outermost of ``app``'s middleware, :class:`CrashAnswer` inside the piece's
    middleware: the request id on every answer, the metrics and a log line per request."""
    app.add_middleware(CrashAnswer)
    app.add_middleware(piece("telemetry").TelemetryMiddleware, telemetry=telemetry(service))


class CrashAnswer:
    """Keeps the asked path in :data:`request_path` and answers an unhandled error with a 500
    problem. It runs inside the piece's middleware (request id set, echoed on the answer)
    rather than in Starlette's outermost error middleware, whose 500 would lack both."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = request_path.set(scope["path"])
        answered = False

        async def watch(message: Message) -> None:
            nonlocal answered
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as error:
            log.exception("unhandled error", error=repr(error))
            if answered:
                raise  # too late for a clean answer: the server closes the connection
            await crash_response(scope["path"])(scope, receive, send)
        finally:
            request_path.reset(token)


async def metrics_response() -> Response:
    """Prometheus text format of this process's metrics."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
