"""Injects traceparent before the CLIENT span starts: the header names its parent instead.

09.4 Trace a request across two services with W3C ``traceparent``.

A trace is a tree of spans: one per piece of work (serving a request, calling another service),
each with a start, an end, a parent, and the trace id they all share. Within a process the
*current* span lives in a contextvar; between processes it travels in a header:

    traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
                 |  trace id (32 hex)                parent span id   flags (01: sampled)

This module builds the three parts a service needs:

- `make_tracer_provider`: spans of one service, sent to the exporter the caller chooses
  (an in-memory one in tests, OTLP to Jaeger or a collector in production);
- `TracingMiddleware`: a SERVER span per request, the child of the caller's ``traceparent``;
- `traced_request`: a CLIENT span per outgoing call, whose id goes out in ``traceparent``.

Nothing here touches OpenTelemetry's *global* tracer provider: it can be set only once per
process, so the provider is passed explicitly, and tests can make as many as they like.
"""

from __future__ import annotations

from typing import Any

import httpx
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# W3C Trace Context only, explicitly: the global propagator depends on OTEL_PROPAGATORS.
PROPAGATOR = TraceContextTextMapPropagator()
INSTRUMENTATION_NAME = "lesson09.tracing"


def make_tracer_provider(service: str, exporter: SpanExporter) -> TracerProvider:
    """A provider whose spans say ``service.name = service`` and go to ``exporter`` as each ends."""
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}), shutdown_on_exit=False
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def _headers(scope: Scope) -> dict[str, str]:
    return {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}


class TracingMiddleware:
    """``app = TracingMiddleware(app, tracer_provider)``: one SERVER span per HTTP request."""

    def __init__(self, app: ASGIApp, tracer_provider: TracerProvider) -> None:
        self.app = app
        self.tracer = tracer_provider.get_tracer(INSTRUMENTATION_NAME)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        parent = PROPAGATOR.extract(_headers(scope))  # an invalid or absent header: a new trace
        status = 500

        async def send_and_remember(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        attributes = {"http.request.method": method, "url.path": scope["path"]}
        with self.tracer.start_as_current_span(
            method, context=parent, kind=SpanKind.SERVER, attributes=attributes
        ) as span:
            try:
                await self.app(scope, receive, send_and_remember)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if isinstance(route, str):  # the template, never the raw path: bounded names
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))


async def traced_request(
    client: httpx.AsyncClient, method: str, url: str, tracer: Tracer, **kwargs: Any
) -> httpx.Response:
    """``client.request(method, url, **kwargs)`` inside a CLIENT span, with ``traceparent`` sent."""
    headers = dict(kwargs.pop("headers", None) or {})
    PROPAGATOR.inject(headers)
    with tracer.start_as_current_span(
        method, kind=SpanKind.CLIENT, attributes={"http.request.method": method, "url.full": url}
    ) as span:
        response = await client.request(method, url, headers=headers, **kwargs)
        span.set_attribute("http.response.status_code", response.status_code)
        if response.status_code >= 500:
            span.set_status(Status(StatusCode.ERROR))
        return response
