"""09.3 RED metrics labelled by route template."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from journey.targets import load

red = load(__file__, "red_metrics")


def _shop(in_flight_seen: list[float] | None = None):
    """A small FastAPI app: templated routes, a router with a prefix, a failing route."""
    from fastapi import APIRouter, FastAPI

    app = FastAPI()
    items = APIRouter(prefix="/api")

    @app.get("/orders/{order_id}")
    async def order(order_id: str) -> dict:
        return {"order_id": order_id}

    @items.get("/items/{item_id}")
    async def item(item_id: int) -> dict:
        return {"item_id": item_id}

    app.include_router(items)

    @app.get("/boom")
    async def boom() -> dict:
        raise RuntimeError("handler bug")

    @app.get("/slow")
    async def slow() -> dict:
        await asyncio.sleep(0.06)
        return {}

    @app.get("/peek")
    async def peek() -> dict:
        if in_flight_seen is not None:
            in_flight_seen.append(_value(app.state.registry, "http_requests_in_flight"))
        return {}

    return app


def _instrumented(in_flight_seen: list[float] | None = None):
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    app = _shop(in_flight_seen)
    app.state.registry = registry
    metrics = red.RedMetrics(registry)
    return red.RedMetricsMiddleware(app, metrics), registry


def _samples(registry, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for metric in registry.collect():
        for sample in metric.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def _value(registry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_requests_are_counted_by_method_route_template_and_status(call) -> None:
    app, registry = _instrumented()

    async def main() -> None:
        await call(app, "GET", "/orders/41")
        await call(app, "GET", "/orders/42")
        await call(app, "GET", "/api/items/7")
        await call(app, "GET", "/api/items/not-a-number")  # 422 from validation

    asyncio.run(main())
    count = _samples(registry, "http_requests_total")
    assert count == {
        (("method", "GET"), ("route", "/orders/{order_id}"), ("status", "200")): 2.0,
        (("method", "GET"), ("route", "/api/items/{item_id}"), ("status", "200")): 1.0,
        (("method", "GET"), ("route", "/api/items/{item_id}"), ("status", "422")): 1.0,
    }, (
        "http_requests_total is labelled method, route and status, where route is the matched "
        "route's template (scope['route'].path after the app ran), never the raw path"
    )
    assert (
        _value(
            registry,
            "http_request_duration_seconds_count",
            method="GET",
            route="/orders/{order_id}",
        )
        == 2.0
    ), "every request is also observed in the duration histogram (method, route)"


def test_many_distinct_ids_and_junk_keep_the_number_of_series_bounded(call) -> None:
    app, registry = _instrumented()

    async def main() -> None:
        for i in range(300):
            await call(app, "GET", f"/orders/{i}")
        for _ in range(100):
            await call(app, "GET", f"/wp-admin/{uuid.uuid4().hex}")
        for i in range(20):
            await call(app, f"PROBE{i}", "/orders/1")

    asyncio.run(main())
    series = _samples(registry, "http_requests_total")
    routes = {dict(labels)["route"] for labels in series}
    methods = {dict(labels)["method"] for labels in series}
    assert routes == {"/orders/{order_id}", red.UNMATCHED_ROUTE}, (
        f"420 requests to distinct paths must make two route labels, not {len(routes)}: "
        "the template for matched routes and UNMATCHED_ROUTE for every unknown path"
    )
    assert methods == {"GET", red.OTHER_METHOD}, (
        "a method outside KNOWN_METHODS is labelled OTHER_METHOD: clients choose the method, "
        f"and every new label value is a new series; got {sorted(methods)}"
    )
    assert len(series) <= 4, f"the counter has {len(series)} series for 3 kinds of request"
    buckets = _samples(registry, "http_request_duration_seconds_bucket")
    assert len(buckets) <= 3 * (len(red.DURATION_BUCKETS) + 1), "the histogram stays bounded too"


def test_an_unknown_route_is_counted_once_under_the_unmatched_label(call) -> None:
    app, registry = _instrumented()
    reply = asyncio.run(call(app, "GET", "/no/such/page"))
    assert reply.status == 404
    assert (
        _value(
            registry, "http_requests_total", method="GET", route=red.UNMATCHED_ROUTE, status="404"
        )
        == 1.0
    ), "a 404 for a path no route matched is labelled route=UNMATCHED_ROUTE"


def test_an_app_that_raises_is_counted_as_a_500_and_the_error_goes_on(call) -> None:
    app, registry = _instrumented()
    with pytest.raises(RuntimeError, match="handler bug"):
        asyncio.run(call(app, "GET", "/boom"))
    assert (
        _value(registry, "http_requests_total", method="GET", route="/boom", status="500") == 1.0
    ), (
        "an exception is an error the client sees as a 500: count it (record in a finally, "
        "with the status starting at 500) and let the exception go on"
    )
    assert _value(registry, "http_request_duration_seconds_count", method="GET", route="/boom") == 1
    assert _value(registry, "http_requests_in_flight") == 0.0, (
        "the in-flight gauge goes back down even when the app raises"
    )


def test_an_app_that_raises_before_answering_is_a_500(call) -> None:
    """No framework in between: nothing was sent when the error came, and the server will
    answer 500 on the app's behalf."""
    from prometheus_client import CollectorRegistry

    async def broken(scope, receive, send) -> None:
        raise ConnectionError("database gone")

    registry = CollectorRegistry()
    app = red.RedMetricsMiddleware(broken, red.RedMetrics(registry))
    with pytest.raises(ConnectionError):
        asyncio.run(call(app, "GET", "/anything"))
    count = _samples(registry, "http_requests_total")
    assert count == {(("method", "GET"), ("route", red.UNMATCHED_ROUTE), ("status", "500")): 1.0}, (
        "an app that raises before sending a status is counted as status '500': start with 500 "
        f"and replace it with the status the app sends; got {count}"
    )


def test_the_in_flight_gauge_counts_requests_being_served(call) -> None:
    seen: list[float] = []
    app, registry = _instrumented(seen)
    asyncio.run(call(app, "GET", "/peek"))
    assert seen == [1.0], "while a request is served, http_requests_in_flight is 1"
    assert _value(registry, "http_requests_in_flight") == 0.0, "and 0 once it is answered"


def test_durations_are_in_seconds(call) -> None:
    app, registry = _instrumented()
    asyncio.run(call(app, "GET", "/slow"))
    total = _value(registry, "http_request_duration_seconds_sum", method="GET", route="/slow")
    assert 0.05 <= total < 10, (
        f"a request that takes about 0.06 s is observed as {total}: Prometheus durations are in "
        "seconds (time.perf_counter() differences), and the buckets assume seconds"
    )
    under = _value(
        registry, "http_request_duration_seconds_bucket", method="GET", route="/slow", le="0.025"
    )
    assert under == 0.0, "a 0.06 s request is not in the 0.025 s bucket"


def _metric_names(registry: Any) -> set[str]:
    return {metric.name for metric in registry.collect()}


def test_metrics_live_in_the_given_registry_only(call) -> None:
    from prometheus_client import REGISTRY, CollectorRegistry

    in_global = _metric_names(REGISTRY)  # other code of this process may have put some there
    first, second = CollectorRegistry(), CollectorRegistry()
    red.RedMetrics(first)
    metrics = red.RedMetrics(second)  # a second set, in another registry: no clash
    app = red.RedMetricsMiddleware(_shop(), metrics)
    asyncio.run(call(app, "GET", "/orders/1"))
    assert (
        _value(
            second, "http_requests_total", method="GET", route="/orders/{order_id}", status="200"
        )
        == 1
    )
    assert _metric_names(REGISTRY) == in_global, (
        "register the metrics in the registry you are given (registry=...), never in "
        "prometheus_client's global REGISTRY: tests and several apps need their own"
    )


def test_metrics_response_is_the_prometheus_text_format(call) -> None:
    app, registry = _instrumented()
    asyncio.run(call(app, "GET", "/orders/5"))
    response = red.metrics_response(registry)
    body = response.body.decode()
    assert response.headers["content-type"].startswith("text/plain"), (
        "Prometheus expects its text format (prometheus_client.CONTENT_TYPE_LATEST)"
    )
    assert 'http_requests_total{method="GET",route="/orders/{order_id}",status="200"} 1.0' in body
    assert "# TYPE http_request_duration_seconds histogram" in body


def test_other_scopes_pass_through(call) -> None:
    from prometheus_client import CollectorRegistry

    seen: list[str] = []

    async def app(scope, receive, send) -> None:
        seen.append(scope["type"])

    registry = CollectorRegistry()
    middleware = red.RedMetricsMiddleware(app, red.RedMetrics(registry))

    async def main() -> None:
        async def receive():
            return {"type": "lifespan.startup"}

        async def send(message) -> None:
            pass

        await middleware({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)

    asyncio.run(main())
    assert seen == ["lifespan"]
    assert _samples(registry, "http_requests_total") == {}, "a lifespan scope is not a request"
