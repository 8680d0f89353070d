"""A request whose handler raises keeps counting as in flight.

A wrong solution of 12.4 `load_shedding`, kept so that its tests prove
they catch this bug. Everything else is the reference solution.
"""

from __future__ import annotations

import json
import random as random_module
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .backoff import jittered_retry_after

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PROBLEM_JSON = "application/problem+json"
DEFAULT_EXEMPT = ("/health/live", "/health/ready", "/metrics")


async def send_problem(
    send: Send, status: int, title: str, detail: str, headers: dict[str, str] | None = None
) -> None:
    """Sends a whole `application/problem+json` response through ASGI (given)."""
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail})
    raw_headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body.encode())).encode()),
    ]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body.encode()})


class LoadShedder:
    """ASGI middleware that serves at most `max_in_flight` HTTP requests at once.

    - A request that arrives while `max_in_flight` requests are being served gets, at once and
      without reaching the app, a **503** `application/problem+json` answer with the title
      "Service overloaded" and a `Retry-After` header: whole seconds from
      `jittered_retry_after(retry_after, random=random)` (12.1, import it with
      `from .backoff import jittered_retry_after`), so shed clients come back spread out
      instead of together.
    - Paths in `exempt_paths` (health checks, metrics) are always served and not counted: an
      overloaded server must still tell its orchestrator that it is alive.
    - Non-HTTP scopes (`lifespan`, `websocket`) go straight to the app.
    - `in_flight` counts the requests being served; a request stops counting when the app
      returns, raises or is cancelled.
    - `shed` counts the requests refused so far.
    - `max_in_flight < 1` or `retry_after <= 0` is a ValueError.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_in_flight: int,
        retry_after: float = 1.0,
        exempt_paths: tuple[str, ...] = DEFAULT_EXEMPT,
        random: Callable[[], float] = random_module.random,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {max_in_flight}")
        if retry_after <= 0:
            raise ValueError(f"retry_after must be positive, got {retry_after}")
        self.app = app
        self.max_in_flight = max_in_flight
        self.retry_after = retry_after
        self.exempt_paths = frozenset(exempt_paths)
        self._random = random
        self.in_flight = 0
        self.shed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            self.shed += 1
            seconds = jittered_retry_after(self.retry_after, random=self._random)
            await send_problem(
                send,
                503,
                "Service overloaded",
                f"more than {self.max_in_flight} requests in progress; retry in {seconds}s",
                {"Retry-After": str(seconds)},
            )
            return
        # No await between the check above and this increment: nobody can slip in between.
        self.in_flight += 1
        await self.app(scope, receive, send)
        self.in_flight -= 1
