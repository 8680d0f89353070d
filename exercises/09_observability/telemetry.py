"""09.8 The observability set-up of every capstone service (capstone piece).

Builds on 09.6 (health.py) and 09.7 (carriers.py): finish those first.

One call per service process, at start-up, with everything it depends on passed in::

    telemetry = setup_telemetry(
        "orders",
        build=BuildInfo.from_env(os.environ),
        registry=prometheus_client.REGISTRY,            # or a CollectorRegistry of its own
        exporter=OTLPSpanExporter(f"{otlp}/v1/traces"),  # InMemorySpanExporter() in tests
        level=settings.log_level,
    )
    asgi_app = telemetry.instrument(app, checks={"database": db.ping})  # serve *this* app
    ...
    telemetry.close()                                   # at shutdown: flushes the spans

What a service then gets:

- **JSON logs**, one object a line on ``stream``, from structlog (``get_logger(name)``) and from
  the standard library (uvicorn, httpx...) alike, each with ``timestamp``, ``level``,
  ``logger``, ``event``, ``service`` and - when there is one - the ``request_id`` and the
  ``trace_id``/``span_id`` of the current span, so a log search and a trace find each other.
- **A pure ASGI middleware** (`TelemetryMiddleware`, installed by `Telemetry.instrument`): a
  checked ``X-Request-ID`` set for the request and echoed; a SERVER span that continues the
  caller's ``traceparent``; RED metrics labelled by route template; one ``request`` log line.
- **/metrics, /health/live, /health/ready and /status** routes (09.6).
- **Trace propagation** on every hop (09.7): `inject_headers`/`extract_headers` for HTTP,
  `inject_metadata`/`extract_metadata` for gRPC, `inject_fields`/`extract_fields` for stream
  messages, and `Telemetry.continue_trace` to serve what was extracted (a gRPC call, a message)
  inside a span of the same trace, under the same request id.

Nothing global is read inside, and OpenTelemetry's global tracer provider is never set (it can
be set once per process): the provider is made here and used through ``telemetry.tracer``. A
process that also wants OpenTelemetry's auto-instrumentation may call
``trace.set_tracer_provider(telemetry.tracer_provider)`` itself, once - and then create its
FastAPI apps with ``FastAPI(telemetry={"tracing": False})``: the FastAPI of this lab makes HTTP
server spans of its own as soon as a global tracer provider is set, which would double ours.
"""

from __future__ import annotations

import logging
import sys  # noqa: F401 - you will need it
import time  # noqa: F401 - you will need it
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO

import structlog
from fastapi import FastAPI
from opentelemetry import trace  # noqa: F401 - you will need it
from opentelemetry.sdk.resources import Resource  # noqa: F401 - you will need it
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (  # noqa: F401 - you will need them
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import Span, SpanKind, Status, StatusCode  # noqa: F401
from prometheus_client import (  # noqa: F401 - you will need them
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
)
from prometheus_client.exposition import generate_latest  # noqa: F401 - you will need it
from starlette.types import ASGIApp, Receive, Scope, Send

from .carriers import (
    REQUEST_ID_HEADER,
    Carried,
    current_request_id,
    extract_fields,
    extract_headers,
    extract_metadata,
    inject_fields,
    inject_headers,
    inject_metadata,
    request_scope,
)
from .health import BuildInfo, Check, health_router  # noqa: F401 - you will need health_router

__all__ = [
    "REQUEST_ID_HEADER",
    "BuildInfo",
    "Carried",
    "Check",
    "Telemetry",
    "TelemetryMiddleware",
    "current_request_id",
    "extract_fields",
    "extract_headers",
    "extract_metadata",
    "get_logger",
    "inject_fields",
    "inject_headers",
    "inject_metadata",
    "request_scope",
    "setup_telemetry",
]

UNMATCHED_ROUTE = "<unmatched>"
OTHER_METHOD = "OTHER"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Probes and scrapes: answered (with a request id) but neither counted, traced nor logged, or
# they would drown the requests that matter.
UNTRACKED_PATHS = frozenset({"/metrics", "/health/live", "/health/ready"})
INSTRUMENTATION_NAME = "capstone.telemetry"
ACCESS_LOGGER = "capstone.http"

# Marks the root handler this module installed; its value is the root level to restore.
_TELEMETRY_HANDLER = "_capstone_telemetry_previous_level"


def get_logger(name: str) -> Any:
    """A structlog logger (given): ``get_logger("capstone.orders").info("placed", order_id=7)``
    writes ``{"event": "placed", "order_id": 7, ...}``."""
    return structlog.get_logger(name)


class Telemetry:
    """The observability of one service process; made by `setup_telemetry`.

    The constructor keeps its arguments as attributes - ``service``, ``build``, ``registry``,
    ``tracer_provider``, ``tracing`` - plus ``tracer`` (start your own spans with it):
    ``tracer_provider.get_tracer(INSTRUMENTATION_NAME)``, or with ``tracing`` off OpenTelemetry's
    ``trace.NoOpTracer()``, whose spans are the invalid span and cost nothing. It registers in
    ``registry``:

    - ``http_requests_total{method, route, status}`` (a Counter),
    - ``http_request_duration_seconds{method, route}`` (a Histogram with DURATION_BUCKETS, in
      seconds),
    - ``http_requests_in_flight`` (a Gauge),
    - ``service_build_info{service, version, commit} 1`` (an Info named "service_build").

    ``handler`` is the root log handler `setup_telemetry` installed and ``previous_level`` the
    root logger's level before the first set-up; `close` puts both back.
    """

    def __init__(
        self,
        service: str,
        build: BuildInfo,
        registry: CollectorRegistry,
        tracer_provider: TracerProvider,
        handler: logging.Handler,
        previous_level: int,
        *,
        tracing: bool = True,
    ) -> None:
        raise NotImplementedError("09.8: keep the arguments, make the tracer, register metrics")

    def instrument(
        self, app: FastAPI, checks: Mapping[str, Check], *, timeout: float = 1.0
    ) -> ASGIApp:
        """Adds the routes of `health_router` (09.6: /health/live, /health/ready, /status, with
        ``checks`` and ``timeout``) and ``GET /metrics`` (this registry in Prometheus's text
        format) to ``app``, and returns ``app`` wrapped in `TelemetryMiddleware`: serve the
        returned app.

        The middleware wraps the whole app (outside FastAPI's error handling), so even the 500
        answer to an unhandled exception carries the request id, and is counted and traced.
        """
        raise NotImplementedError("09.8: include the health routes, add /metrics, wrap the app")

    @contextmanager
    def continue_trace(
        self,
        carried: Carried | None,
        name: str,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, str | int | float | bool] | None = None,
    ) -> Iterator[Span]:
        """Runs the block under what arrived with a gRPC call or a message; yields the span.

        ``with telemetry.continue_trace(extract_fields(fields), "process orders.events",
        kind=SpanKind.CONSUMER):`` - the block runs in a span named ``name``, the child of the
        carried context (a new trace when nothing valid came, or ``carried`` is None), with the
        carried request id set (a fresh one when none came). An exception is recorded on the
        span, which ends as an ERROR, and goes on; the span ends and the request id is reset in
        every case.
        """
        raise NotImplementedError("09.8: request_scope + start_as_current_span, then yield")
        yield  # makes this a generator function, as @contextmanager needs

    def close(self) -> None:
        """Undoes the set-up: removes the log handler (if a later set-up has not replaced it
        already, also restoring the root logger's level and structlog's defaults), unregisters
        the four metrics from the registry and shuts the tracer provider down (which exports
        the spans still batched and stops its thread). Calling it twice is harmless."""
        raise NotImplementedError("09.8: put logging back, unregister, shut the provider down")


class TelemetryMiddleware:
    """Pure ASGI: request id, SERVER span, RED metrics and an access log line per request.

    For an ``http`` scope:

    - the request id: ``x-request-id`` from the headers if valid, else a fresh one, set with
      `request_scope` for the whole request and echoed as ``x-request-id`` in the response
      (the app's own headers kept). The refused value is never logged;
    - paths in UNTRACKED_PATHS are only given the request id: no span, metric or log line;
    - any other request runs in a SERVER span (``telemetry.tracer``'s), the child of the
      incoming ``traceparent`` - read only when ``telemetry.tracing`` is on - named
      ``"{method} {route template}"`` (``"GET /orders/{order_id}"``), or the method alone when
      no route matched; a method outside KNOWN_METHODS is OTHER_METHOD, in the span name and
      in the labels. Status ERROR for 5xx; an exception is recorded and goes on up;
    - RED: ``http_requests_total`` and ``http_request_duration_seconds`` with the method label,
      the route template (UNMATCHED_ROUTE when none matched) and the status (500 when the app
      raised before answering); the in-flight gauge up while the app runs;
    - one log line, ``get_logger(ACCESS_LOGGER)``, event ``"request"`` with ``method``,
      ``route``, ``status`` (an int) and ``duration_ms``, written inside the span (so it has
      the trace id) - at "error" level for a 5xx, "info" otherwise;
    - afterwards, neither the request id nor the span is left in the caller's context.

    Any other scope goes to the app untouched.
    """

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        raise NotImplementedError("09.8: keep the app and the telemetry")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError("09.8: request id, then span + metrics + log line")


def setup_telemetry(
    service: str,
    *,
    build: BuildInfo,
    registry: CollectorRegistry,
    exporter: SpanExporter | None = None,
    batch: bool = True,
    level: str = "INFO",
    stream: TextIO | None = None,
) -> Telemetry:
    """Sets up JSON logging, a tracer provider and the metrics of one service; returns the
    `Telemetry`.

    - Logging: one handler on the root logger writing to ``stream`` (sys.stdout when None),
      whose structlog ``ProcessorFormatter`` renders the standard library's records as JSON
      with the fields in the module docstring; structlog's own lines, the same JSON, written
      straight to ``stream`` (``structlog.WriteLogger``, no detour through the standard
      library: every request logs a line, and the detour triples its cost). ``level`` in any
      case, for both; an unknown one raises ValueError with "unknown log level". Calling
      ``setup_telemetry`` again replaces the handler of the previous call: every line is
      written once.
    - Tracing: a TracerProvider of its own (resource ``service.name`` = ``service``), never the
      global one. ``exporter`` None turns tracing off (``tracing=False``): no span is made, so
      log lines carry no trace id, and a request costs about half the CPU. ``batch`` picks a
      BatchSpanProcessor (production: spans leave in the background) or a SimpleSpanProcessor
      (tests: each span is exported as it ends).
    - Metrics: in ``registry`` only (see `Telemetry`); each Telemetry needs a registry of its
      own, or the previous one closed.
    """
    raise NotImplementedError("09.8: check the level, make the provider, install logging")
