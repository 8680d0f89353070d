"""09.3 RED metrics labelled by route template.

The RED method watches three things per endpoint: the **R**ate of requests, how many are
**E**rrors, and their **D**uration. With prometheus-client they are one counter and one
histogram (plus a gauge of the requests in flight):

    http_requests_total{method="GET", route="/orders/{order_id}", status="200"}  1027
    http_request_duration_seconds_bucket{method="GET", route="/orders/{order_id}", le="0.05"}  998
    http_requests_in_flight  3

Every distinct set of label values is a separate time series that Prometheus stores for weeks.
A label taken from the raw path (``/orders/1``, ``/orders/2`` ...) or from whatever method a
client sends makes one series per value: memory without bound, and a way for anyone to take the
monitoring down. So the route label is the *template* the router matched, every unknown path
shares one label, and so does every unusual method.
"""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED_ROUTE = "<unmatched>"
OTHER_METHOD = "OTHER"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds. Finer where a fast API lives, coarser towards the timeouts.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RedMetrics:
    """The three metrics, registered in ``registry`` (one RedMetrics per registry)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
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


def route_label(scope: Scope) -> str:
    """The template of the route that matched (``/orders/{order_id}``), or UNMATCHED_ROUTE."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


def method_label(method: str) -> str:
    """The method when it is one of KNOWN_METHODS, else OTHER_METHOD."""
    return method if method in KNOWN_METHODS else OTHER_METHOD


class RedMetricsMiddleware:
    """``app = RedMetricsMiddleware(app, metrics)``: counts and times every HTTP request."""

    def __init__(self, app: ASGIApp, metrics: RedMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app raises before it answers

        async def send_and_remember(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        metrics = self.metrics
        metrics.in_flight.inc()
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_and_remember)
        finally:
            elapsed = time.perf_counter() - started
            metrics.in_flight.dec()
            method, route = method_label(scope["method"]), route_label(scope)
            metrics.requests.labels(method, route, str(status)).inc()
            metrics.duration.labels(method, route).observe(elapsed)


def metrics_response(registry: CollectorRegistry) -> Response:
    """The registry in Prometheus's text format, for a ``GET /metrics`` route."""
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
