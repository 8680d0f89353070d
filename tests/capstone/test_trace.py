"""One order, one trace: gateway -> orders -> inventory (gRPC) -> outbox relay -> stream ->
notifier, read back from the spans the session's shop appends to its trace file; and tracing
that is off unless configured."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from opentelemetry.trace import SpanKind

from capstone.common import tracing
from capstone.common.settings import ServiceSettings

RESERVE = "/shop.inventory.v1.Inventory/Reserve"


def provider_for(service: str, settings: ServiceSettings) -> Any:
    """A tracer provider with the exporters the settings pick, each behind the processor the
    services give it: what lesson 09's piece and the glue make in a service."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    for exporter in tracing.exporters_for(settings):
        provider.add_span_processor(tracing.processor_for(exporter))
    return provider


def read_spans(path: Path) -> list[dict[str, Any]]:
    """Every whole line of the file (a line being written right now is left for later)."""
    if not path.exists():
        return []
    *whole, _partial = path.read_bytes().split(b"\n")
    return [orjson.loads(line) for line in whole]


def only(spans: list[dict[str, Any]], service: str, kind: str) -> dict[str, Any]:
    found = [s for s in spans if s["service"] == service and s["kind"] == kind]
    assert len(found) == 1, f"{service} should have one {kind} span in the trace: {found}"
    return found[0]


def assert_child(child: dict[str, Any], parent: dict[str, Any]) -> None:
    assert child["parent_span_id"] == parent["span_id"], (
        f"{child['service']} '{child['name']}' should be a child of "
        f"{parent['service']} '{parent['name']}'"
    )


@pytest.mark.postgres
@pytest.mark.redis
def test_a_placed_order_is_one_trace_from_the_gateway_to_the_notifier(shop, poll):
    buyer = shop.user()
    product = shop.product(stock=3)
    with shop.client() as http:
        placed = http.post(
            "/orders",
            json={"items": [{"product_id": product, "quantity": 1}]},
            headers={**buyer, "Idempotency-Key": uuid.uuid4().hex},
        )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]

    def whole_trace() -> list[dict[str, Any]] | None:
        spans = read_spans(shop.trace_path)
        notified = [s for s in spans if s["attributes"].get("shop.order_id") == order_id]
        if not notified:
            return None
        trace = [s for s in spans if s["trace_id"] == notified[0]["trace_id"]]
        # the gateway's span ends once its answer is sent: it may land a moment after the 201
        return trace if any(s["parent_span_id"] is None for s in trace) else None

    spans = poll(whole_trace, timeout=20, what=f"the notifier's span of order {order_id}")
    assert {s["service"] for s in spans} == {"gateway", "orders", "inventory", "notifier"}

    entry = only(spans, "gateway", "SERVER")
    assert entry["parent_span_id"] is None, "the trace starts at the gateway"
    assert entry["name"] == "POST /api/v1/orders"
    forward = only(spans, "gateway", "CLIENT")
    assert_child(forward, entry)
    handle = only(spans, "orders", "SERVER")
    assert handle["name"] == "POST /orders"
    assert_child(handle, forward)
    reserve_call = only(spans, "orders", "CLIENT")
    assert reserve_call["name"] == RESERVE
    assert_child(reserve_call, handle)
    reserve = only(spans, "inventory", "SERVER")
    assert reserve["name"] == RESERVE
    assert_child(reserve, reserve_call)
    publish = only(spans, "orders", "PRODUCER")
    assert_child(publish, handle)  # through the outbox row, after the request has ended
    consume = only(spans, "notifier", "CONSUMER")
    assert_child(consume, publish)  # through the stream entry's traceparent
    assert (
        consume["attributes"]["messaging.message.id"]
        == publish["attributes"]["messaging.message.id"]
    ), "the notifier handled the entry the relay wrote"

    # and the log lines of the order carry its trace id
    trace_id = entry["trace_id"]

    def logged(service: str, message: str) -> list[dict[str, Any]]:
        found = []
        for line in shop.log_path.read_text().splitlines():
            name, _, text = line.partition(" | ")
            if name.strip() == service and order_id in text:
                record = orjson.loads(text)
                if record.get("event") == message:
                    found.append(record)
        return found

    placed_lines = poll(lambda: logged("orders", "order placed"), what="orders' log line")
    noted_lines = poll(lambda: logged("notifier", "notification"), what="notifier's log line")
    assert placed_lines[0]["trace_id"] == trace_id
    assert placed_lines[0]["span_id"] == handle["span_id"]
    assert noted_lines[0]["trace_id"] == trace_id
    assert noted_lines[0]["span_id"] == consume["span_id"]


def test_tracing_is_off_without_a_trace_file_or_an_endpoint(monkeypatch, tmp_path):
    for name in ("TRACE_FILE", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    settings = ServiceSettings()
    assert tracing.exporters_for(settings) == []
    # a service set up so: the piece traces nothing, and no global tracer provider is installed
    # (the gRPC interceptors and the relay's spans would use it)
    from capstone.common.observability import setup_telemetry, shutdown_telemetry

    try:
        assert setup_telemetry("orders", settings=settings).tracing is False
    finally:
        shutdown_telemetry()
    assert not tracing.enabled()
    # the helpers the services call then do nothing at all
    assert tracing.current_carrier() is None
    assert tracing.grpc_client_interceptors() is None
    assert tracing.start_span("publish", SpanKind.PRODUCER, None) is None
    with tracing.client_span("GET orders") as headers:
        assert headers == {}
    # an empty variable (as compose passes an unset one) is off too
    monkeypatch.setenv("TRACE_FILE", "")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
    assert tracing.exporters_for(ServiceSettings()) == []
    assert not list(tmp_path.iterdir()), "nothing was written"


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("otel_exporter_otlp_endpoint", "jaeger:4318"),  # no scheme: nothing would be sent
        ("trace_file", "/no/such/folder/spans.jsonl"),
    ],
)
def test_a_tracing_setting_that_cannot_work_is_refused_at_start(setting, value):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=setting):
        ServiceSettings(**{setting: value})


def test_the_runner_gives_the_services_an_absolute_trace_file(monkeypatch, tmp_path):
    from capstone.runner import Config

    monkeypatch.chdir(tmp_path)
    env = Config(env={"TRACE_FILE": "spans.jsonl"}).env_for("orders")
    assert env["TRACE_FILE"] == str(tmp_path / "spans.jsonl"), "services run elsewhere"


def test_the_exporters_follow_the_settings(tmp_path):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    from capstone.common.trace_file import JsonLinesSpanExporter

    to_file = tracing.exporters_for(ServiceSettings(trace_file=str(tmp_path / "spans.jsonl")))
    assert [type(e) for e in to_file] == [JsonLinesSpanExporter]
    to_jaeger = tracing.exporters_for(
        ServiceSettings(otel_exporter_otlp_endpoint="http://jaeger:4318/")
    )
    assert [type(e) for e in to_jaeger] == [OTLPSpanExporter]
    assert to_jaeger[0]._endpoint == "http://jaeger:4318/v1/traces"  # type: ignore[attr-defined]


def test_the_trace_file_gets_one_json_line_per_span_from_each_provider(tmp_path):
    path = tmp_path / "spans.jsonl"
    settings = ServiceSettings(trace_file=str(path))
    providers = [provider_for(name, settings) for name in ("orders", "notifier")]
    orders, notifier = (p.get_tracer("test") for p in providers)
    with orders.start_as_current_span("POST /orders", kind=SpanKind.SERVER) as request:
        carrier = tracing.carrier_of(request)
    handled = notifier.start_span(
        "process", context=tracing.context_from({b"traceparent": carrier["traceparent"].encode()})
    )
    handled.end()
    for provider in providers:
        provider.shutdown()

    spans = read_spans(path)
    assert [(s["service"], s["name"]) for s in spans] == [
        ("orders", "POST /orders"),
        ("notifier", "process"),
    ]
    first, second = spans
    assert second["trace_id"] == first["trace_id"]
    assert second["parent_span_id"] == first["span_id"], "the context crossed as bytes fields"
    assert first["parent_span_id"] is None
    assert len(first["trace_id"]) == 32, "ids in the hex the log lines print"
    assert len(first["span_id"]) == 16


def test_with_an_endpoint_the_spans_are_posted_over_otlp_http():
    """A loopback server stands in for Jaeger's OTLP/HTTP receiver."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    received: list[tuple[str, bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        provider = provider_for("inventory", ServiceSettings(otel_exporter_otlp_endpoint=endpoint))
        provider.get_tracer("test").start_span("Reserve", kind=SpanKind.SERVER).end()
        assert provider.force_flush(10_000), "the batch was not sent in time"
        provider.shutdown()
    finally:
        server.shutdown()
        server.server_close()

    assert [path for path, _ in received] == ["/v1/traces"]
    sent = ExportTraceServiceRequest.FromString(received[0][1])
    (resource_spans,) = sent.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert service["service.name"] == "inventory"
    assert [s.name for scope in resource_spans.scope_spans for s in scope.spans] == ["Reserve"]
