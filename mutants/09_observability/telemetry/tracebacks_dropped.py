"""log.exception(...) from structlog loses the traceback: only exc_info=true is written.

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
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO

import orjson
import structlog
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
)
from prometheus_client.exposition import generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
from .health import BuildInfo, Check, health_router

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
_ECHO_KEY = REQUEST_ID_HEADER.lower().encode("latin-1")


def get_logger(name: str) -> Any:
    """A structlog logger: ``get_logger("capstone.orders").info("placed", order_id=7)``."""
    return structlog.get_logger(name)


def _context_fields(service: str) -> Any:
    """A structlog processor: the service, the request id and the current span's ids."""

    def add(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
        event.setdefault("service", service)
        request_id = current_request_id()
        if request_id is not None:
            event.setdefault("request_id", request_id)
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            event.setdefault("trace_id", format(span_context.trace_id, "032x"))
            event.setdefault("span_id", format(span_context.span_id, "016x"))
        event.pop("color_message", None)  # uvicorn's coloured copy of the message
        if event.get("message") == event.get("event"):
            del event["message"]  # a copy another handler's Formatter left on the record
        return event

    return add


def _json(event: dict[str, Any], **_: Any) -> str:
    """orjson renders a line several times faster than json; a value it cannot encode -> str."""
    return orjson.dumps(event, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


class _NamedWriteLogger(structlog.WriteLogger):
    """structlog's line writer, with the name it was asked for (``add_logger_name`` reads it)."""

    def __init__(self, stream: TextIO, name: str) -> None:
        super().__init__(stream)
        self.name = name


def _writers(stream: TextIO) -> Callable[..., _NamedWriteLogger]:
    """The logger factory: ``get_logger(name)`` hands it the name."""

    def factory(*args: Any) -> _NamedWriteLogger:
        return _NamedWriteLogger(stream, str(args[0]) if args else "")

    return factory


def _install_logging(service: str, level: str, stream: TextIO) -> tuple[logging.Handler, int]:
    """Installs the JSON handler on the root logger; returns it and the level to restore.

    Two paths to one stream and one JSON shape: the standard library's records (uvicorn,
    httpx...) through the handler's ProcessorFormatter, and structlog's lines written straight
    to the stream. Each request writes a line: through the standard library's Logger, Handler
    and Formatter the same line would cost about three times the CPU."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _context_fields(service),
    ]
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(serializer=_json),
            ],
        )
    )
    root = logging.getLogger()
    previous_level = root.level
    for old in [h for h in root.handlers if hasattr(h, _TELEMETRY_HANDLER)]:
        # A second set-up replaces the first (never two lines), and close() must put back the
        # level from before the *first* one.
        previous_level = getattr(old, _TELEMETRY_HANDLER)
        root.removeHandler(old)
        old.close()
    setattr(handler, _TELEMETRY_HANDLER, previous_level)
    root.addHandler(handler)
    root.setLevel(level)
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.JSONRenderer(serializer=_json),
        ],
        # below the level a call is a method that does nothing: no processor runs
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        logger_factory=_writers(stream),
        # False: a logger made before a second set-up must follow the new one
        cache_logger_on_first_use=False,
    )
    return handler, previous_level


def _level(level: str) -> str:
    names = logging.getLevelNamesMapping()
    if level.upper() not in names:
        valid = ", ".join(sorted(names, key=names.__getitem__))
        raise ValueError(f"unknown log level {level!r}: use one of {valid}")
    return level.upper()


class Telemetry:
    """The observability of one service process; made by `setup_telemetry`.

    Attributes: ``service``, ``build``, ``registry`` (the RED metrics and build info live
    there), ``tracer_provider``, ``tracing`` and ``tracer`` (start your own spans with it; with
    ``tracing`` off, OpenTelemetry's no-op tracer: its spans are the invalid span, free).
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
        self.service = service
        self.build = build
        self.registry = registry
        self.tracer_provider = tracer_provider
        self.tracing = tracing
        self.tracer: trace.Tracer = (
            tracer_provider.get_tracer(INSTRUMENTATION_NAME) if tracing else trace.NoOpTracer()
        )
        self._handler = handler
        self._previous_level = previous_level
        self._closed = False
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered, by method, route template and status code",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, in seconds",
            ["method", "route"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "http_requests_in_flight", "HTTP requests being answered now", registry=registry
        )
        self.build_info = Info("service_build", "The build this service runs", registry=registry)
        self.build_info.info({"service": service, "version": build.version, "commit": build.commit})
        # bind(): a logger fixed to this set-up, not a proxy that rebuilds itself per call
        self.access_log = get_logger(ACCESS_LOGGER).bind()

    def instrument(
        self, app: FastAPI, checks: Mapping[str, Check], *, timeout: float = 1.0
    ) -> ASGIApp:
        """Adds /metrics, /health/live, /health/ready and /status to ``app`` and returns ``app``
        wrapped in `TelemetryMiddleware`: serve the returned app.

        The middleware wraps the whole app (outside FastAPI's error handling), so even the 500
        answer to an unhandled exception carries the request id, and is counted and traced.
        """
        app.include_router(health_router(self.service, self.build, checks, timeout=timeout))
        registry = self.registry

        async def metrics(_: Request) -> Response:
            return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

        app.add_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
        return TelemetryMiddleware(app, self)

    @contextmanager
    def continue_trace(
        self,
        carried: Carried | None,
        name: str,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, str | int | float | bool] | None = None,
    ) -> Iterator[Span]:
        """Runs the block under what arrived with a gRPC call or a message.

        ``with telemetry.continue_trace(extract_fields(fields), "process orders.events",
        kind=SpanKind.CONSUMER):`` - the block runs in a span named ``name``, the child of the
        carried context (a new trace when nothing valid came), with the carried request id set
        (a fresh one when none came). An exception is recorded on the span, which ends as an
        ERROR, and goes on; the span ends and the request id is reset in every case.
        """
        request_id = carried.request_id if carried is not None else None
        parent = carried.context if carried is not None else None
        with (
            request_scope(request_id),
            self.tracer.start_as_current_span(
                name, context=parent, kind=kind, attributes=attributes
            ) as span,
        ):
            yield span

    def close(self) -> None:
        """Undoes the set-up: removes the log handler, restores the root logger's level and
        structlog's defaults, unregisters the metrics and shuts the tracer provider down
        (which exports the spans still batched). Calling it twice is harmless."""
        if self._closed:
            return
        self._closed = True
        root = logging.getLogger()
        if self._handler in root.handlers:
            root.removeHandler(self._handler)
            root.setLevel(self._previous_level)
            structlog.reset_defaults()
        self._handler.close()
        for metric in (self.requests, self.duration, self.in_flight, self.build_info):
            self.registry.unregister(metric)
        self.tracer_provider.shutdown()


class TelemetryMiddleware:
    """Pure ASGI: request id, SERVER span, RED metrics and an access log line per request."""

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == _ECHO_KEY), None)
        with request_scope(incoming) as request_id:
            echoed = (_ECHO_KEY, request_id.encode("latin-1"))
            status = 500  # what the client gets if the app raises before it answers

            async def send_with_id(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message = {**message, "headers": [*message.get("headers", ()), echoed]}
                await send(message)

            if scope["path"] in UNTRACKED_PATHS:
                await self.app(scope, receive, send_with_id)
                return
            await self._observed(scope, receive, send_with_id, status_of=lambda: status)

    async def _observed(
        self, scope: Scope, receive: Receive, send: Send, status_of: Callable[[], int]
    ) -> None:
        telemetry = self.telemetry
        method = scope["method"]
        label = method if method in KNOWN_METHODS else OTHER_METHOD  # clients pick methods
        # tracing off: no traceparent to read, and the no-op tracer's span costs nothing
        parent = extract_headers(scope["headers"]).context if telemetry.tracing else None
        telemetry.in_flight.inc()
        started = time.perf_counter()
        with telemetry.tracer.start_as_current_span(
            label,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": label, "url.path": scope["path"]},
        ) as span:
            try:
                await self.app(scope, receive, send)
            finally:
                elapsed = time.perf_counter() - started
                telemetry.in_flight.dec()
                code = status_of()
                template = getattr(scope.get("route"), "path", None)
                route = template if isinstance(template, str) else UNMATCHED_ROUTE
                telemetry.requests.labels(label, route, str(code)).inc()
                telemetry.duration.labels(label, route).observe(elapsed)
                if route is not UNMATCHED_ROUTE:  # never the raw path: span names are grouped
                    span.update_name(f"{label} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", code)
                if code >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                log = telemetry.access_log.error if code >= 500 else telemetry.access_log.info
                log(
                    "request",
                    method=label,
                    route=route,
                    status=code,
                    duration_ms=round(elapsed * 1000, 3),
                )


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
    """Sets up JSON logging, a tracer provider and the metrics of one service; see the module
    docstring. ``exporter`` None turns tracing off: no span is made (log lines carry no trace
    id) and each request costs about half the CPU. ``batch`` picks a BatchSpanProcessor
    (production: spans leave in the background) or a SimpleSpanProcessor (tests: each span is
    exported as it ends). ``stream`` defaults to sys.stdout. An unknown ``level`` is a
    ValueError. Calling it again replaces the logging set-up of the previous call; each
    Telemetry needs a registry of its own (or the previous one closed)."""
    level = _level(level)
    provider = TracerProvider(
        resource=Resource.create({"service.name": service, "service.version": build.version}),
        shutdown_on_exit=False,  # close() shuts it down; no reference kept until exit
    )
    if exporter is not None:
        processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        provider.add_span_processor(processor)
    handler, previous_level = _install_logging(
        service, level, stream if stream is not None else sys.stdout
    )
    return Telemetry(
        service, build, registry, provider, handler, previous_level, tracing=exporter is not None
    )
