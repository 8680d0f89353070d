"""RED metrics and the request-id middleware (lesson 09: observability).

Rate, Errors, Duration per route: ``http_requests_total{method,route,status}`` and
``http_request_duration_seconds{method,route}``. The route label is the route *template*
(``/orders/{order_id}``), never the raw path, so the number of series stays bounded.
"""

from __future__ import annotations

import logging
import os
import time
from contextvars import ContextVar
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.contextvars import clear_contextvars

from capstone.common.logging import REQUEST_ID_HEADER, bind_request_id, get_logger
from capstone.common.problems import crash_response
from capstone.pieces import piece

REQUESTS = Counter(
    "http_requests_total", "HTTP requests handled", ["service", "method", "route", "status"]
)
DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
UNTRACKED = {"/metrics", "/health/live", "/health/ready"}
# the path the client asked for: the gateway names it in the problems it passes on
request_path: ContextVar[str] = ContextVar("request_path", default="")
log = get_logger("capstone.http")
# libraries that log a line per call: their warnings are worth a line, the rest is noise
QUIET_LOGGERS = ("uvicorn.access", "httpx", "httpcore", "alembic")
_telemetry: Any = None  # the process's set-up (lesson 09's Telemetry)


def setup_telemetry(service: str, level: str = "INFO") -> Any:
    """This process's telemetry, from lesson 09's piece (exercise 09.8): JSON logs on stdout
    for structlog and the standard library. A second call replaces the first."""
    global _telemetry
    lesson = piece("telemetry")
    if _telemetry is not None:
        _telemetry.close()
    _telemetry = lesson.setup_telemetry(
        service,
        build=lesson.BuildInfo.from_env(os.environ),
        registry=CollectorRegistry(),
        level=level,
    )
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)
    return _telemetry


class RequestContextMiddleware:
    """Reads or creates ``X-Request-ID``, binds it to the logs, echoes it, records RED metrics.

    It also answers an unhandled error with a 500 problem: here, rather than in Starlette's
    outermost error middleware, so that the 500 carries the request id like every answer."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        clear_contextvars()
        request_path.set(scope["path"])
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = bind_request_id(headers.get(REQUEST_ID_HEADER.lower()))
        status = 500
        started = time.perf_counter()
        answered = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status = message["status"]
                answered = True
                message.setdefault("headers", [])
                message["headers"].append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            log.exception("unhandled error", error=repr(error))
            if answered:
                raise  # too late for a clean answer: the server closes the connection
            await crash_response(scope["path"])(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        if route in UNTRACKED:
            return
        method = scope["method"]
        REQUESTS.labels(self.service, method, route, str(status)).inc()
        DURATION.labels(self.service, method, route).observe(elapsed)
        log.info(
            "request",
            method=method,
            path=scope["path"],
            route=route,
            status=status,
            duration_ms=round(elapsed * 1000, 1),
        )


async def metrics_response() -> Response:
    """Prometheus text format of this process's metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
