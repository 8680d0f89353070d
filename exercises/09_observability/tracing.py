"""09.4 Trace a request across two services with W3C ``traceparent``.

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
from opentelemetry.sdk.resources import Resource  # noqa: F401 - you will need it
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter  # noqa: F401
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer  # noqa: F401
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Receive, Scope, Send

# W3C Trace Context only, explicitly: the global propagator depends on OTEL_PROPAGATORS.
# PROPAGATOR.inject(headers) writes 'traceparent' for the current span into a dict;
# PROPAGATOR.extract(headers) reads it back into a Context (an empty one if absent or bad).
PROPAGATOR = TraceContextTextMapPropagator()
INSTRUMENTATION_NAME = "lesson09.tracing"


def make_tracer_provider(service: str, exporter: SpanExporter) -> TracerProvider:
    """A provider whose spans carry the resource attribute ``service.name = service`` and go
    to ``exporter`` as each one ends (a SimpleSpanProcessor).

    Return it; never make it the global provider (``trace.set_tracer_provider``).
    """
    raise NotImplementedError("09.4: a TracerProvider with a Resource and a SimpleSpanProcessor")


class TracingMiddleware:
    """``app = TracingMiddleware(app, tracer_provider)``: one SERVER span per HTTP request.

    For an ``http`` scope:

    - the span's parent is the context in the incoming ``traceparent`` header; without one, or
      with a malformed one, the span starts a new trace (and the request is served as usual);
    - the span is the *current* span while the app runs, so spans the app starts are its
      children;
    - its name is the method, then ``"{method} {route template}"`` once a route matched
      (``"GET /items/{item_id}"``) - never the raw path, which would make one name per id;
    - attributes ``http.request.method``, ``url.path``, ``http.response.status_code`` and,
      when a route matched, ``http.route`` (its template);
    - status ERROR for a 5xx answer; a 4xx is not an error of the server;
    - when the app raises, the span records the exception, ends as an ERROR, and the
      exception goes on up. The span always ends: only ended spans are exported.

    Any other scope passes through untraced. Tracer name: INSTRUMENTATION_NAME.
    """

    def __init__(self, app: ASGIApp, tracer_provider: TracerProvider) -> None:
        raise NotImplementedError("09.4: keep the app and a tracer from the provider")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError("09.4: extract the parent, run the app in a SERVER span")


async def traced_request(
    client: httpx.AsyncClient, method: str, url: str, tracer: Tracer, **kwargs: Any
) -> httpx.Response:
    """``client.request(method, url, **kwargs)`` inside a CLIENT span named ``method``.

    The request carries ``traceparent`` naming this CLIENT span, plus the caller's own
    ``headers=`` if any. The span gets ``http.response.status_code``; a 5xx answer marks it
    ERROR; a failed call (an httpx error) ends it as an ERROR and the error goes on up.
    """
    raise NotImplementedError("09.4: start a CLIENT span, inject traceparent, send")
