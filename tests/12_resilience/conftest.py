"""Shared helpers for lesson 12: a fake clock, loopback HTTP and gRPC servers, a closed port.

Fixtures hand out *tools* (a class, a function); the tests call them inside their own event
loop, so every server lives and dies within one ``asyncio.run`` and never outlives its test.
Nothing here calls exercise code.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import ssl

    import httpx

# gRPC's core logs at INFO when a test server stops under an open connection ("Got goaway"):
# noise in a learner's check. Errors still show. Set before any test imports grpc.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

START_TIMEOUT = 10.0  # seconds a loopback server may take to start on a busy machine
STOP_TIMEOUT = 5.0


class FakeTime:
    """A clock the test moves by hand. Its ``sleep`` records the pause and moves the clock
    instead of waiting, then lets other tasks run, as a real sleep would."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)

    def sync_sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Randoms:
    """A random source that returns the given values in turn (then repeats the last)."""

    def __init__(self, *values: float) -> None:
        self.values = list(values) or [0.5]
        self.calls = 0

    def __call__(self) -> float:
        value = self.values[min(self.calls, len(self.values) - 1)]
        self.calls += 1
        return value


_tls_context: ssl.SSLContext | None = None


def _http_client(**options: Any) -> httpx.AsyncClient:
    """An httpx.AsyncClient that shares one TLS context with the others.

    By default every client builds its own, loading the whole CA bundle (tens of milliseconds
    each), and these tests make dozens of clients for plain-HTTP loopback servers.
    """
    import ssl

    import httpx

    global _tls_context
    if _tls_context is None:
        _tls_context = ssl.create_default_context()
    return httpx.AsyncClient(verify=_tls_context, **options)


def _closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def _serve(app: Any) -> AsyncIterator[str]:
    """Serves an ASGI app with uvicorn on 127.0.0.1 and a free port, in the running loop.

    Yields the base URL (no trailing slash). The server is started and stopped through
    uvicorn's Server.startup() and its listeners, not Server.serve(): serve() notices a stop
    only every 0.1 s and then waits 0.1 s more, and these tests start dozens of servers.
    """
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_config=None, log_level="critical", lifespan="off", access_log=False
    )
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    try:
        async with asyncio.timeout(START_TIMEOUT):
            await server.startup(sockets=[sock])
            await server.on_tick(0)  # sets the default headers (Date, Server)
        yield f"http://127.0.0.1:{port}"
    finally:
        await _stop(server)
        sock.close()


async def _stop(server: Any) -> None:
    """Stops accepting, closes idle connections, waits (with a deadline) for the ones still
    answering, then cancels the handlers still running (a hung handler whose client has
    gone, in a test about hung handlers)."""
    state = server.server_state
    for listener in server.servers:
        listener.close()
    for connection in list(state.connections):
        connection.shutdown()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(STOP_TIMEOUT):
            while state.connections:
                await asyncio.sleep(0.002)
    tasks = list(state.tasks)
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=STOP_TIMEOUT)
    for listener in server.servers:
        await listener.wait_closed()


@asynccontextmanager
async def _grpc_server(handlers: dict[str, Callable[..., Any]]) -> AsyncIterator[str]:
    """A grpc.aio server on 127.0.0.1 with raw-bytes unary methods of service ``test.Flaky``.

    ``handlers`` maps a method name to ``async def handler(request: bytes, context) -> bytes``.
    Yields the target ("127.0.0.1:<port>"); the method's full name is ``/test.Flaky/<name>``.
    """
    import grpc

    # SO_REUSEPORT off: a taken port fails instead of being shared (lesson 06)
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    methods = {name: grpc.unary_unary_rpc_method_handler(fn) for name, fn in handlers.items()}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Flaky", methods),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(grace=None)


_frozen = False


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Collects garbage before pytest renders a failure (see lesson 05's conftest: async tests
    leave cycles that, finalized while pytest parses source, can crash CPython 3.11.7's AST
    builder)."""
    global _frozen
    if call.when == "call" and call.excinfo is not None:
        gc.collect()
        if not _frozen:
            gc.freeze()
            _frozen = True
    yield


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def randoms() -> type[Randoms]:
    return Randoms


@pytest.fixture
def closed_port() -> int:
    return _closed_port()


@pytest.fixture
def serve() -> Callable[[Any], AbstractAsyncContextManager[str]]:
    return _serve


@pytest.fixture
def http_client() -> Callable[..., httpx.AsyncClient]:
    return _http_client


@pytest.fixture
def grpc_server() -> Callable[[dict[str, Callable[..., Any]]], AbstractAsyncContextManager[str]]:
    return _grpc_server
