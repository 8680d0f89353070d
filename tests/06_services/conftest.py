"""Shared tools for lesson 06: a fake clock, async Redis clients that count round trips, and a
bounded ``asyncio.run``.

Fixtures hand out *tools*; the tests call them inside their own event loop, so every client and
server lives and dies within one ``asyncio.run``. No fixture calls exercise code.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar

import pytest

from journey.pytest_plugin import RedisSpace

T = TypeVar("T")
SAFETY_NET_SECONDS = 8.0  # below the lab's 10 s time limit per test: our own clean-up runs first


class FakeClock:
    """A clock that moves only when told: ``clock()`` reads it, ``clock.advance(s)`` moves it."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RoundTrips:
    """How many times a Redis client sent something to the server (a pipeline counts once)."""

    def __init__(self) -> None:
        self.count = 0


def _run(coro: Coroutine[Any, Any, T], limit: float = SAFETY_NET_SECONDS) -> T:
    """``asyncio.run`` with a deadline: the safety net of every async test here."""

    async def bounded() -> T:
        async with asyncio.timeout(limit):
            return await coro

    return asyncio.run(bounded())


@asynccontextmanager
async def _redis_client(url: str, *, decode: bool = False) -> AsyncIterator[tuple[Any, RoundTrips]]:
    """A ``redis.asyncio.Redis`` on ``url`` and its round-trip counter; closed on exit."""
    from redis.asyncio import ConnectionPool, Redis
    from redis.asyncio.connection import Connection

    trips = RoundTrips()

    class CountingConnection(Connection):
        async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            trips.count += 1
            await super().send_packed_command(command, check_health)

    pool = ConnectionPool.from_url(
        url, connection_class=CountingConnection, decode_responses=decode
    )
    client = Redis(connection_pool=pool)
    try:
        yield client, trips
    finally:
        await client.aclose()
        await pool.disconnect()


_frozen = False


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Collects garbage before pytest renders a failure (see lesson 05's conftest: finalizers of
    async leftovers can otherwise break traceback rendering on CPython 3.11)."""
    global _frozen
    if call.when == "call" and call.excinfo is not None:
        gc.collect()
        if not _frozen:
            gc.freeze()  # later collections only scan what the tests made: they stay cheap
            _frozen = True
    yield


@pytest.fixture
def run() -> Callable[..., Any]:
    """``run(main())``: ``asyncio.run`` with a safety-net deadline (``limit=`` seconds)."""
    return _run


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def async_redis(
    redis_space: RedisSpace,
) -> Callable[..., AbstractAsyncContextManager[tuple[Any, RoundTrips]]]:
    """``async with async_redis() as (client, trips):`` - a client on this test's Redis (keys go
    under ``redis_space.prefix`` and are deleted after the test); ``decode=True`` for str
    answers."""

    def make(*, decode: bool = False) -> AbstractAsyncContextManager[tuple[Any, RoundTrips]]:
        return _redis_client(redis_space.url, decode=decode)

    return make


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
