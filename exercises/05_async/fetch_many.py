"""05.1 Fetch many URLs with a concurrency limit and per-request timeouts (warm-up).

Many downloads at once are I/O-bound: the program mostly waits for the network, so one event
loop can keep dozens of requests in flight. Two things keep that polite and robust: a limit on
how many run at once (an `asyncio.Semaphore`), and a deadline per request, so one hung server
cannot stall the batch. One failure is a result, not a crash of the whole batch.

Write it twice, with the two async HTTP clients you will meet: httpx (`fetch_all`) and aiohttp
(`fetch_all_aiohttp`). Same contract, different APIs:

    httpx:   async with httpx.AsyncClient() as client:  response = await client.get(url)
             response.status_code, response.text; errors are httpx.HTTPError
    aiohttp: async with aiohttp.ClientSession() as session:
                 async with session.get(url) as response:  await response.text()
             response.status; errors are aiohttp.ClientError
"""

from __future__ import annotations

import asyncio  # noqa: F401 - you will need it
from collections.abc import Sequence
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
    """GETs every URL with httpx, at most `limit` at a time, each with its own `timeout`.

    Returns one FetchResult per URL, in the order of `urls` (not in order of completion).
    A timeout, a refused connection or a URL that cannot be fetched becomes that URL's
    result; it never cancels or fails the other requests. The timeout of a request starts
    when it gets one of the `limit` slots: time spent waiting for a slot does not count.

    A URL that is not an absolute http(s) URL with a host, or whose port is outside 1-65535,
    is an error result starting with INVALID_URL, and is never requested. (Check it yourself
    with `httpx.URL(url)`: httpx does not check the port's range, and `http://host:99999/`
    fails deep in the socket layer with an error that is not an httpx.HTTPError.)

    `client` lets the caller share an httpx.AsyncClient (it is left open); without one,
    fetch_all opens its own and closes it before returning.
    `limit < 1` or `timeout <= 0` is a ValueError (`limit=1` is fine). No URLs: an empty list.
    """
    raise NotImplementedError("05.1: gather one coroutine per URL under a Semaphore")


async def fetch_all_aiohttp(
    urls: Sequence[str],
    *,
    limit: int = 10,
    timeout: float = 5.0,
    session: aiohttp.ClientSession | None = None,
) -> list[FetchResult]:
    """The same as fetch_all, with aiohttp: same results, same rules, same errors.

    `session` lets the caller share an aiohttp.ClientSession (it is left open); without one,
    fetch_all_aiohttp opens its own and closes it before returning. aiohttp's connector has
    a connection limit of its own (100 by default): give your own session
    `aiohttp.TCPConnector(limit=limit)`. Read the body inside `async with session.get(url)`.
    """
    raise NotImplementedError("05.1: the same with aiohttp.ClientSession")
