"""Shared helpers for lesson 09: raw ASGI calls, loopback servers, span exporters, log capture.

Logging, structlog, OpenTelemetry's globals and Prometheus's default registry are process-wide.
An autouse fixture puts every one of them back after each test, so a test (or a wrong solution
under test) cannot leak handlers, configuration or metrics into the next one.

Fixtures hand out tools; the tests call exercise code themselves, in their own event loop.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # keep the heavy libraries out of collection time
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

SERVER_START_SECONDS = 10.0
SERVER_STOP_SECONDS = 10.0


# -- process-wide state, restored after every test --------------------------------------------


@dataclass
class _LoggingState:
    root_level: int
    root_handlers: list[logging.Handler]
    loggers: dict[str, tuple[int, list[logging.Handler], bool, bool]]

    @classmethod
    def save(cls) -> _LoggingState:
        root = logging.getLogger()
        loggers = {
            name: (logger.level, list(logger.handlers), logger.propagate, logger.disabled)
            for name, logger in logging.Logger.manager.loggerDict.items()
            if isinstance(logger, logging.Logger)
        }
        return cls(root.level, list(root.handlers), loggers)

    def restore(self) -> None:
        root = logging.getLogger()
        for handler in root.handlers:
            if handler not in self.root_handlers:
                handler.close()
        root.handlers[:] = self.root_handlers
        root.setLevel(self.root_level)
        for name, logger in logging.Logger.manager.loggerDict.items():
            if not isinstance(logger, logging.Logger):
                continue
            level, handlers, propagate, disabled = self.loggers.get(name, (0, [], True, False))
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.propagate = propagate
            logger.disabled = disabled


@pytest.fixture(autouse=True)
def _restore_global_state() -> Iterator[None]:
    logging_state = _LoggingState.save()
    structlog_config = sys.modules["structlog"].get_config() if "structlog" in sys.modules else None
    otel = _otel_globals()
    registry_collectors = _default_registry_collectors()
    try:
        yield
    finally:
        logging_state.restore()
        if "structlog" in sys.modules:
            structlog = sys.modules["structlog"]
            if structlog_config is None:
                structlog.reset_defaults()
            else:
                structlog.configure(**structlog_config)
        _restore_otel_globals(otel)
        _restore_default_registry(registry_collectors)


def _otel_globals() -> tuple[Any, ...] | None:
    if "opentelemetry.trace" not in sys.modules:
        return None
    from opentelemetry import context, trace

    return trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE, context.get_current()


def _restore_otel_globals(saved: tuple[Any, ...] | None) -> None:
    if "opentelemetry.trace" not in sys.modules:
        return
    from opentelemetry import context, trace
    from opentelemetry.util._once import Once

    provider, once, current = saved if saved is not None else (None, Once(), None)
    trace._TRACER_PROVIDER = provider
    trace._TRACER_PROVIDER_SET_ONCE = once
    if current is not None and context.get_current() is not current:
        context.attach(current)  # a context a test attached and never detached


def _default_registry_collectors() -> set[Any]:
    from prometheus_client import REGISTRY

    return set(REGISTRY._collector_to_names)


def _restore_default_registry(saved: set[Any]) -> None:
    """Unregisters what a test registered in prometheus_client's default registry."""
    from prometheus_client import REGISTRY

    for collector in set(REGISTRY._collector_to_names) - saved:
        REGISTRY.unregister(collector)


# -- raw ASGI calls ----------------------------------------------------------------------------


@dataclass
class Reply:
    """What an ASGI app sent back: status, headers (names lower-case) and body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


def http_scope(
    method: str = "GET", path: str = "/", headers: Iterable[tuple[bytes, bytes]] = ()
) -> dict[str, Any]:
    """An HTTP scope as an ASGI server builds it: header names are lower-case bytes."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def asgi_call(
    app: Any,
    method: str = "GET",
    path: str = "/",
    headers: Iterable[tuple[bytes, bytes]] = (),
    body: bytes = b"",
) -> Reply:
    """Calls ``app`` directly, in the caller's task and context, as a server would.

    No server in between: an exception the app raises reaches the caller, and whatever the
    app leaves in the caller's context variables is still there afterwards.
    """
    scope = http_scope(method, path, headers)
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    reply = Reply(status=0)

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)  # a real client would stay connected until the response
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            reply.status = message["status"]
            reply.headers = [
                (k.decode("latin-1").lower(), v.decode("latin-1"))
                for k, v in message.get("headers", [])
            ]
        elif message["type"] == "http.response.body":
            reply.body += message.get("body", b"")

    await app(scope, receive, send)
    return reply


@pytest.fixture
def call() -> Callable[..., Any]:
    return asgi_call


# -- real servers on loopback ------------------------------------------------------------------


@asynccontextmanager
async def _serve(app: Any) -> AsyncIterator[str]:
    """Runs ``app`` under uvicorn on 127.0.0.1 (a free port) in this event loop.

    Yields the base URL; the server is stopped when the block ends, passed or failed.
    """
    import uvicorn

    class Server(uvicorn.Server):
        def capture_signals(self) -> Any:  # the test runner keeps its own Ctrl-C handling
            from contextlib import nullcontext

            return nullcontext()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
        loop="asyncio",
    )
    server = Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(SERVER_START_SECONDS):
            while not server.started:
                if task.done():
                    task.result()  # raises what stopped it
                    raise RuntimeError("the test server stopped before it started")
                await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), SERVER_STOP_SECONDS)
        except TimeoutError:
            server.force_exit = True
            task.cancel()
        finally:
            sock.close()


@pytest.fixture
def serve() -> Callable[[Any], AbstractAsyncContextManager[str]]:
    return _serve


# -- spans -------------------------------------------------------------------------------------


class Spans:
    """Makes tracer providers that export to memory; shuts them all down at the end."""

    def __init__(self) -> None:
        self.providers: list[TracerProvider] = []

    def provider(self, service: str = "test") -> tuple[TracerProvider, InMemorySpanExporter]:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        exporter = InMemorySpanExporter()
        provider = TracerProvider(
            resource=Resource.create({"service.name": service}), shutdown_on_exit=False
        )
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        self.providers.append(provider)
        return provider, exporter

    def exporter(self) -> InMemorySpanExporter:
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        return InMemorySpanExporter()

    def close(self) -> None:
        for provider in self.providers:
            provider.shutdown()

    @staticmethod
    def named(finished: Iterable[ReadableSpan], name: str) -> ReadableSpan:
        """The one finished span called ``name``."""
        found = [span for span in finished if span.name == name]
        names = [span.name for span in finished]
        assert len(found) == 1, f"expected one span named {name!r}; the exporter has {names}"
        return found[0]

    @staticmethod
    def trace_id(span: Any) -> str:
        """A span's trace id as 32 hex characters, as in traceparent and in log lines."""
        return format(span.context.trace_id, "032x")

    @staticmethod
    def span_id(span: Any) -> str:
        return format(span.context.span_id, "016x")


@pytest.fixture
def spans() -> Iterator[Spans]:
    made = Spans()
    try:
        yield made
    finally:
        made.close()


# -- captured log lines ------------------------------------------------------------------------


class Lines(io.StringIO):
    """A text stream to log into; ``.records()`` parses what was written, one JSON per line."""

    def records(self) -> list[dict[str, Any]]:
        lines = [line for line in self.getvalue().splitlines() if line.strip()]
        parsed = []
        for line in lines:
            try:
                parsed.append(json.loads(line))
            except json.JSONDecodeError:
                raise AssertionError(
                    f"every log line must be one JSON object; got {line!r}"
                ) from None
        return parsed


@pytest.fixture
def lines() -> type[Lines]:
    return Lines
