"""Does not check URLs first: http://127.0.0.1:99999/ crashes the whole httpx batch.

05.1 Fetch many URLs with a concurrency limit and per-request timeouts (warm-up).

Many downloads at once are I/O-bound: the program mostly waits for the network, so one event
loop can keep dozens of requests in flight. Two things keep that polite and robust: a limit on
how many run at once (an `asyncio.Semaphore`), and a deadline per request, so one hung server
cannot stall the batch. One failure is a result, not a crash of the whole batch.

The same function twice: with httpx (`fetch_all`) and with aiohttp (`fetch_all_aiohttp`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass

import aiohttp
import httpx

TIMEOUT = "timeout"
INVALID_URL = "InvalidURL"


@dataclass(frozen=True)
class FetchResult:
    """What happened to one URL.

    A response arrived: `status` and `body` are set and `error` is None (a 404 or 500 is a
    response too). No response: `status` and `body` are None and `error` says why - exactly
    `TIMEOUT` when the deadline passed, a text that starts with `INVALID_URL` for a URL that
    cannot be fetched at all, otherwise a short description such as "ConnectError: ...".
    """

    url: str
    status: int | None = None
    body: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


async def fetch_all(
    urls: Sequence[str],
    *,
    limit: int = 10,
    timeout: float = 5.0,
    client: httpx.AsyncClient | None = None,
) -> list[FetchResult]:
    """GETs every URL with httpx, at most `limit` at a time, each with its own `timeout`."""
    _check_limits(limit, timeout)
    if not urls:
        return []
    semaphore = asyncio.Semaphore(limit)
    async with AsyncExitStack() as stack:
        if client is None:
            # Our own client: its pool must not be a tighter limit than ours. The stack
            # closes it (and its connections) when the batch is done, even on an error.
            limits = httpx.Limits(max_connections=limit, max_keepalive_connections=limit)
            client = await stack.enter_async_context(httpx.AsyncClient(limits=limits))
        # gather keeps the order of its arguments, whatever order they finish in.
        results = await asyncio.gather(
            *(_fetch_one_httpx(client, semaphore, url, timeout) for url in urls)
        )
    return list(results)


async def fetch_all_aiohttp(
    urls: Sequence[str],
    *,
    limit: int = 10,
    timeout: float = 5.0,
    session: aiohttp.ClientSession | None = None,
) -> list[FetchResult]:
    """The same as fetch_all, with an aiohttp.ClientSession (left open when passed in)."""
    _check_limits(limit, timeout)
    if not urls:
        return []
    semaphore = asyncio.Semaphore(limit)
    async with AsyncExitStack() as stack:
        if session is None:
            connector = aiohttp.TCPConnector(limit=limit)  # aiohttp's own bound: as wide as ours
            session = await stack.enter_async_context(aiohttp.ClientSession(connector=connector))
        results = await asyncio.gather(
            *(_fetch_one_aiohttp(session, semaphore, url, timeout) for url in urls)
        )
    return list(results)


def _check_limits(limit: int, timeout: float) -> None:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")


def _url_problem(url: str) -> str | None:
    """Why `url` cannot be fetched at all, or None. Checked up front: httpx, for one, does
    not check the port's range, and a port like 99999 fails deep inside the socket layer."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        return f"{INVALID_URL}: {error}"
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return f"{INVALID_URL}: {url!r} is not an absolute http(s) URL"
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        return f"{INVALID_URL}: port {parsed.port} is outside 1-65535"
    return None


async def _fetch_one_httpx(
    client: httpx.AsyncClient, semaphore: asyncio.Semaphore, url: str, timeout: float
) -> FetchResult:
    async with semaphore:
        # The deadline starts once we hold a slot: a queue on our side is not a slow server.
        try:
            async with asyncio.timeout(timeout):
                response = await client.get(url)
        except (TimeoutError, httpx.TimeoutException):
            return FetchResult(url, error=TIMEOUT)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return FetchResult(url, error=f"{INVALID_URL}: {type(error).__name__}: {error}")
    return FetchResult(url, status=response.status_code, body=response.text)


async def _fetch_one_aiohttp(
    session: aiohttp.ClientSession, semaphore: asyncio.Semaphore, url: str, timeout: float
) -> FetchResult:
    if problem := _url_problem(url):
        return FetchResult(url, error=problem)
    async with semaphore:
        try:
            async with asyncio.timeout(timeout):
                # aiohttp reads the body inside the response's context; raise_for_status is
                # off by default, so a 404 is a response like any other.
                async with session.get(url) as response:
                    return FetchResult(url, status=response.status, body=await response.text())
        except TimeoutError:  # aiohttp's own timeouts are TimeoutErrors too
            return FetchResult(url, error=TIMEOUT)
        except aiohttp.ClientError as error:
            return FetchResult(url, error=f"{type(error).__name__}: {error}")
