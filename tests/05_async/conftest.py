"""Shared helpers for lesson 05: a loopback HTTP server and an in-flight request gauge.

Fixtures hand out *tools* (a function, a class); the tests call them inside their own event
loop, so every server lives and dies within one ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # keep aiohttp out of collection time
    from aiohttp import web

HOLD_LIMIT_SECONDS = 5.0  # a held request never outlives a broken test by more than this


class Gauge:
    """Counts requests in flight and remembers the peak.

    ``async with gauge.held():`` marks one request in flight. With ``gate`` set, the first
    requests wait there until ``gate`` of them are in flight at once (or ``patience`` runs out),
    which proves the work overlapped without relying on timing luck.
    """

    def __init__(self, gate: int | None = None, patience: float = 1.0) -> None:
        self.current = 0
        self.peak = 0
        self.total = 0
        self.gate = gate
        self.patience = patience
        self.opened = asyncio.Event()
        self.release = asyncio.Event()  # set it to let requests that wait forever go

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        self.current += 1
        self.total += 1
        self.peak = max(self.peak, self.current)
        try:
            if self.gate is not None:
                if self.current >= self.gate:
                    self.opened.set()
                try:
                    await asyncio.wait_for(self.opened.wait(), self.patience)
                except TimeoutError:
                    # The client never reached the gate: open it for good so a failing test
                    # stays fast, and let the test's peak check say what went wrong.
                    self.opened.set()
            yield
        finally:
            self.current -= 1

    async def hold_forever(self) -> None:
        """For a handler that should look hung: waits until the test sets ``release``."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self.release.wait(), HOLD_LIMIT_SECONDS)


@asynccontextmanager
async def _serve(app: web.Application, release: asyncio.Event | None = None) -> AsyncIterator[str]:
    """Runs ``app`` on 127.0.0.1 with a free port; yields its base URL (no trailing slash)."""
    from aiohttp import web

    runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        if release is not None:
            release.set()
        await runner.cleanup()


def _closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_frozen = False


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Collects garbage before pytest renders a failure.

    Async tests leave cycles (event loops, tasks, frames) behind. If the garbage collector
    happens to finalize them while pytest parses source files to show a traceback, CPython
    3.11.7 can fail with "SystemError: AST constructor recursion depth mismatch". Collecting
    first keeps failure reports readable. The first time, everything alive is frozen
    (gc.freeze), so later collections only scan what the tests created: they stay cheap.
    """
    global _frozen
    if call.when == "call" and call.excinfo is not None:
        gc.collect()
        if not _frozen:
            gc.freeze()
            _frozen = True
    yield


class Opened:
    """Every instance of a client class created while a test runs (see ``track_clients``)."""

    def __init__(self) -> None:
        self.clients: list[object] = []

    def unclosed(self) -> list[object]:
        """The tracked clients still open: httpx's ``is_closed`` or aiohttp's ``closed``."""
        return [c for c in self.clients if not getattr(c, "is_closed", getattr(c, "closed", True))]


@pytest.fixture
def track_clients(monkeypatch: pytest.MonkeyPatch) -> Callable[[type], Opened]:
    """``opened = track_clients(httpx.AsyncClient)`` records every instance the code under test
    creates (however it imported the class), so a test can check they were all closed."""

    def track(cls: type) -> Opened:
        opened = Opened()
        original = cls.__init__

        def recording_init(self: object, *args: object, **kwargs: object) -> None:
            original(self, *args, **kwargs)
            opened.clients.append(self)

        monkeypatch.setattr(cls, "__init__", recording_init)
        return opened

    return track


@pytest.fixture
def serve() -> Callable[..., AbstractAsyncContextManager[str]]:
    return _serve


@pytest.fixture
def gauge() -> type[Gauge]:
    return Gauge


@pytest.fixture
def closed_port() -> int:
    return _closed_port()
