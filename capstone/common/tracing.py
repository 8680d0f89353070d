"""One trace per order, from the gateway to the notifier (lesson 09: distributed tracing).

Off unless configured, and then it costs next to nothing: lesson 09's piece (exercise 09.8,
set up by :mod:`capstone.common.observability`) gets no exporter, its middleware makes no span,
no tracer provider is installed, and the helpers below return at once. Two settings turn it on
(either or both):

- ``TRACE_FILE``: every finished span is appended to this file as one JSON line (the tests
  read it). Each process opens it in append mode and writes each line with one ``write``, so
  several services can share one file without mixing their lines;
- ``OTEL_EXPORTER_OTLP_ENDPOINT``: spans are batched and sent over OTLP/HTTP to
  ``<endpoint>/v1/traces`` (Jaeger in ``compose.yaml``).

The piece's tracer provider is then installed as OpenTelemetry's global one
(:func:`install`), for the gRPC interceptors and the helpers here. Where the trace context
travels (W3C ``traceparent``):

- HTTP: the piece's middleware makes the SERVER span of each request from its ``traceparent``
  header; the gateway's calls to the services inject the header themselves
  (:func:`client_span`), since aiohttp has no instrumentation here;
- gRPC: OpenTelemetry's interceptors, on orders' channel and on inventory's server, carry it in
  the call's metadata;
- the outbox: the row keeps the context of the request that placed the order
  (:func:`current_carrier`), the relay's PRODUCER span continues it (:func:`start_span`) and
  writes its own ``traceparent`` into the stream entry, next to the event; the notifier's
  CONSUMER span continues from the entry's fields (the piece's ``continue_trace``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind

from capstone.common.settings import ServiceSettings

if TYPE_CHECKING:  # the exporters are imported only when tracing is on
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

INSTRUMENTATION = "capstone"
TRACE_FIELDS = ("traceparent", "tracestate")  # what a message carries of the context
_installed = False


def enabled() -> bool:
    """True once :func:`install` has installed a tracer provider in this process."""
    return _installed


# -- set-up -----------------------------------------------------------------------------------


def exporters_for(settings: ServiceSettings) -> list[SpanExporter]:
    """Where the spans go, from the settings: nowhere by default."""
    exporters: list[SpanExporter] = []
    if settings.trace_file:
        from capstone.common.trace_file import JsonLinesSpanExporter

        exporters.append(JsonLinesSpanExporter(settings.trace_file))
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        base = settings.otel_exporter_otlp_endpoint.rstrip("/")
        exporters.append(OTLPSpanExporter(endpoint=f"{base}/v1/traces"))
    return exporters


def batched(exporter: SpanExporter) -> bool:
    """The file gets each span as it ends (a test waits for it); the network gets batches."""
    from capstone.common.trace_file import JsonLinesSpanExporter

    return not isinstance(exporter, JsonLinesSpanExporter)


def processor_for(exporter: SpanExporter) -> SpanProcessor:
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    return BatchSpanProcessor(exporter) if batched(exporter) else SimpleSpanProcessor(exporter)


def install(provider: TracerProvider) -> None:
    """Makes ``provider`` (the piece's) OpenTelemetry's global one, once, at start-up: the gRPC
    interceptors and the helpers below use it."""
    global _installed
    trace.set_tracer_provider(provider)
    _installed = True


# -- spans and carriers -----------------------------------------------------------------------


def _tracer() -> trace.Tracer:
    return trace.get_tracer(INSTRUMENTATION)


def current_carrier() -> dict[str, str] | None:
    """The current trace context as ``traceparent`` (and ``tracestate``), to store with work
    that continues later; None when tracing is off or no span is current."""
    if not _installed:
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier or None


def carrier_of(span: Span | None) -> dict[str, str]:
    """``span``'s context as ``traceparent`` (and ``tracestate``); empty for no span."""
    if span is None:
        return {}
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    return carrier


def context_from(carrier: Mapping[Any, Any] | None) -> Context:
    """The context a carrier names: a dict of ``str`` or ``bytes`` (a stream entry's fields),
    or None. A missing or malformed ``traceparent`` gives a new trace."""
    text: dict[str, str] = {}
    for key, value in (carrier or {}).items():
        name = key.decode() if isinstance(key, bytes) else str(key)
        if name in TRACE_FIELDS:
            text[name] = value.decode() if isinstance(value, bytes) else str(value)
    return propagate.extract(text)


def start_span(
    name: str, kind: SpanKind, parent: Mapping[Any, Any] | None, **attributes: Any
) -> Span | None:
    """A span continuing the context stored in ``parent`` (not made current: end it with
    :func:`ending`); None when tracing is off."""
    if not _installed:
        return None
    context = context_from(parent)
    return _tracer().start_span(name, context=context, kind=kind, attributes=attributes)


@contextmanager
def ending(span: Span | None, **attributes: Any) -> Iterator[None]:
    """Makes ``span`` current for the block (log lines carry its ids), then ends it."""
    if span is None:
        yield
        return
    span.set_attributes(attributes)
    with trace.use_span(span, end_on_exit=True):
        yield


@contextmanager
def client_span(name: str, **attributes: Any) -> Iterator[dict[str, str]]:
    """A CLIENT span around an outgoing call; yields the headers that carry it (none when
    tracing is off)."""
    if not _installed:
        yield {}
        return
    with _tracer().start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes):
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        yield carrier


def grpc_client_interceptors() -> list[Any] | None:
    """Interceptors for a gRPC aio channel: a CLIENT span per call (health checks aside)."""
    if not _installed:
        return None
    from opentelemetry.instrumentation.grpc import aio_client_interceptors, filters

    return list(aio_client_interceptors(filter_=filters.negate(filters.health_check())))


def grpc_server_interceptors() -> list[Any] | None:
    """Interceptors for a gRPC aio server: a SERVER span per call (health checks aside)."""
    if not _installed:
        return None
    from opentelemetry.instrumentation.grpc import aio_server_interceptor, filters

    return [aio_server_interceptor(filter_=filters.negate(filters.health_check()))]
