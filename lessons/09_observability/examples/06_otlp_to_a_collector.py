"""What OTLP is: spans leave a service in batches, as protobuf over HTTP, for a collector.

In production the OTLP exporter sends to an OpenTelemetry Collector, or straight to Jaeger
(which accepts OTLP on port 4318). Here a tiny receiver on 127.0.0.1 stands in for it and
decodes what arrives, so you can see it without Docker.

Run: uv run python lessons/09_observability/examples/06_otlp_to_a_collector.py
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind

received: list[tuple[str, int, ExportTraceServiceRequest]] = []


class Collector(BaseHTTPRequestHandler):
    """Accepts POST /v1/traces like a collector's OTLP/HTTP receiver, and keeps the request."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        received.append((self.path, len(body), request))
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:  # keep the output readable
        pass


def main() -> None:
    collector = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=collector.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}/v1/traces"
    try:
        provider = TracerProvider(
            resource=Resource.create({"service.name": "orders", "service.version": "1.4.2"}),
            shutdown_on_exit=False,
        )
        # Batch: spans wait in a queue and leave together, off the request's path.
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        tracer = provider.get_tracer("example")
        with tracer.start_as_current_span("POST /orders", kind=SpanKind.SERVER) as span:
            span.set_attribute("http.route", "/orders")
            with tracer.start_as_current_span("Inventory/Reserve", kind=SpanKind.CLIENT):
                pass
            with tracer.start_as_current_span("INSERT orders", kind=SpanKind.CLIENT):
                pass
        print("spans ended; received so far:", len(received), "(they wait in the batch)")
        provider.shutdown()  # flushes the batch: do this at shutdown, or spans are lost
    finally:
        collector.shutdown()
        collector.server_close()
        thread.join(timeout=5)
    for path, size, request in received:
        print(f"\nPOST {path}: {size} bytes of protobuf")
        for resource_spans in request.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            print("  resource:", {k: attributes[k] for k in ("service.name", "service.version")})
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    took = (span.end_time_unix_nano - span.start_time_unix_nano) / 1e3
                    print(
                        f"  span {span.name:<18} trace {span.trace_id.hex()[:8]}... "
                        f"parent {span.parent_span_id.hex() or '(root)':<16} {took:7.1f} us"
                    )
    print("\nWith Docker, point the same exporter at Jaeger: http://localhost:4318/v1/traces")


if __name__ == "__main__":
    main()
