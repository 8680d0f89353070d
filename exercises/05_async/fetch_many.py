"""05.1 Fetch many URLs with a concurrency limit and per-request timeouts (warm-up).

Many downloads at once are I/O-bound: the program mostly waits for the network, so one event
loop can keep dozens of requests in flight. Two things keep that polite and robust: a limit on
how many run at once (an `asyncio.Semaphore`), and a deadline per request, so one hung server
cannot stall the batch. One failure is a result, not a crash of the whole batch.
"""

from __future__ import annotations

import asyncio  # noqa: F401 - you will need it
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

TIMEOUT = "timeout"


@dataclass(frozen=True)
class FetchResult:
    """What happened to one URL.

    A response arrived: `status` and `body` are set and `error` is None (a 404 or 500 is a
    response too). No response: `status` and `body` are None and `error` says why - exactly
    `TIMEOUT` when the deadline passed, otherwise a short description such as
    "ConnectError: ...".
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
    """GETs every URL, at most `limit` at a time, each with its own `timeout` in seconds.

    Returns one FetchResult per URL, in the order of `urls` (not in order of completion).
    A timeout, a refused connection or a malformed URL becomes that URL's result; it never
    cancels or fails the other requests. The timeout of a request starts when it gets one of
    the `limit` slots: time spent waiting for a slot does not count.

    `client` lets the caller share an httpx.AsyncClient (it is left open); without one,
    fetch_all opens its own and closes it before returning.
    `limit < 1` or `timeout <= 0` is a ValueError. No URLs: an empty list.
    """
    raise NotImplementedError("05.1: gather one coroutine per URL under a Semaphore")
