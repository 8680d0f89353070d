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

import time  # noqa: F401 - you will need it

from prometheus_client import (  # noqa: F401 - you will need them
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.exposition import generate_latest  # noqa: F401 - you will need it
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

UNMATCHED_ROUTE = "<unmatched>"
OTHER_METHOD = "OTHER"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds. Finer where a fast API lives, coarser towards the timeouts.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RedMetrics:
    """The three metrics, registered in ``registry`` - never in prometheus_client's global
    REGISTRY - so that tests and several apps can each have their own:

    - ``self.requests``: a Counter exported as ``http_requests_total``, labels
      ``method``, ``route``, ``status`` (the status code as a str, "200");
    - ``self.duration``: a Histogram ``http_request_duration_seconds`` with DURATION_BUCKETS,
      labels ``method``, ``route``; observations in **seconds**;
    - ``self.in_flight``: a Gauge ``http_requests_in_flight``, no labels.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        raise NotImplementedError("09.3: register the counter, histogram and gauge in registry")


def route_label(scope: Scope) -> str:
    """The template of the route that matched (``/orders/{order_id}``), or UNMATCHED_ROUTE.

    Starlette and FastAPI store the matched route in ``scope["route"]`` while routing; its
    ``.path`` is the template. Read it after the app ran.
    """
    raise NotImplementedError("09.3: scope.get('route') and its .path, else UNMATCHED_ROUTE")


def method_label(method: str) -> str:
    """The method when it is one of KNOWN_METHODS, else OTHER_METHOD."""
    raise NotImplementedError("09.3: keep known methods, collapse the rest")


class RedMetricsMiddleware:
    """``app = RedMetricsMiddleware(app, metrics)``: counts and times every HTTP request.

    For an ``http`` scope: the in-flight gauge is up by one while the app runs; afterwards the
    request is counted with ``method_label``, ``route_label`` and the status the app sent, and
    its duration observed. An app that raises before answering counts as status "500", the
    gauge still goes back down, and the exception goes on up. Any other scope passes through
    and is not counted.
    """

    def __init__(self, app: ASGIApp, metrics: RedMetrics) -> None:
        raise NotImplementedError("09.3: keep the app and the metrics")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError("09.3: remember the status, count and time in a finally")


def metrics_response(registry: CollectorRegistry) -> Response:
    """The registry in Prometheus's text format (``generate_latest``), with the content type
    ``CONTENT_TYPE_LATEST``, for a ``GET /metrics`` route."""
    raise NotImplementedError("09.3: a Response of generate_latest(registry)")
