"""12.5 Timeouts and deadline propagation across services (core).

A client gives the whole request 2 seconds. The front service spends 0.5 s, then calls the
service behind it. That call must not get a fresh timeout of its own: only 1.5 s are left, and
after that nobody is waiting for the answer. Work done for a caller who has gone is wasted,
and under load it is what keeps a struggling system from recovering.

So a request carries its *deadline*. Between processes it travels as the time left, in whole
milliseconds, in the `X-Request-Budget-Ms` header (a relative time: the two machines' clocks
need not agree). Each service turns it back into a deadline on its own clock, stops working
when it passes, and passes on whatever is left when it calls further.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Self

import httpx

Clock = Callable[[], float]
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEADLINE_HEADER = "X-Request-Budget-Ms"
PROBLEM_JSON = "application/problem+json"

# The deadline of the request being served (set by DeadlineMiddleware for each request).
current_deadline: ContextVar[Deadline | None] = ContextVar("current_deadline", default=None)


class DeadlineExceeded(Exception):
    """The deadline passed before the work was done (given). A service answers 504."""


class InvalidDeadline(ValueError):
    """A deadline header that is not a whole number of milliseconds >= 0 (given)."""


@dataclass(frozen=True)
class Deadline:
    """A point in time on `clock` after which nobody waits for the answer.

    - `Deadline.after(2.0)` is 2 seconds from now; `expires_at` is on `clock`'s scale.
    - `remaining()` is the seconds left, never negative; `expired` is true once `clock()`
      has reached `expires_at`.
    - `shorten(seconds)` is the earlier of this deadline and `seconds` from now (a service
      may give a call less time than its caller allows, never more).
    - `to_header()` is the time left in whole milliseconds, rounded *down* (promise no more
      time than there is), as a string: 1.2349 s left -> "1234".
    - `Deadline.from_header(value, default=..., maximum=...)` reads that header: None (no
      header) gives `default` seconds; otherwise the value must be a whole number of ms
      (surrounding spaces allowed), else InvalidDeadline, whose message names the header;
      a budget above `maximum` seconds is cut to `maximum`.
    - `after`, `shorten`, `from_header` raise ValueError for negative seconds.
    """

    expires_at: float
    clock: Clock = field(default=time.monotonic, compare=False, repr=False)

    @classmethod
    def after(cls, seconds: float, *, clock: Clock = time.monotonic) -> Self:
        raise NotImplementedError("12.5: cls(clock() + seconds, clock), refusing seconds < 0")

    def remaining(self) -> float:
        raise NotImplementedError("12.5: seconds left on self.clock, never negative")

    @property
    def expired(self) -> bool:
        raise NotImplementedError("12.5: has the clock reached expires_at?")

    def shorten(self, seconds: float) -> Self:
        raise NotImplementedError("12.5: the earlier of this deadline and `seconds` from now")

    def to_header(self) -> str:
        raise NotImplementedError("12.5: whole milliseconds left, rounded down, as a string")

    @classmethod
    def from_header(
        cls,
        value: str | None,
        *,
        default: float,
        maximum: float,
        clock: Clock = time.monotonic,
    ) -> Self:
        raise NotImplementedError("12.5: None -> default; whole ms -> seconds, capped; else error")


async def send_problem(send: Send, status: int, title: str, detail: str) -> None:
    """Sends a whole `application/problem+json` response through ASGI (given)."""
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body.encode())).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body.encode()})


class DeadlineMiddleware:
    """ASGI middleware: every HTTP request runs under its caller's deadline.

    For each HTTP request (other scopes go straight to the app):

    - read `X-Request-Budget-Ms` with `Deadline.from_header(..., default=default_seconds,
      maximum=max_seconds, clock=clock)`; an invalid value is answered **400** (problem+json
      whose detail names the header), without calling the app;
    - a budget already spent on arrival ("0") is answered **504** at once, without calling
      the app: nobody waits for that answer any more;
    - otherwise set `current_deadline` to it while the app runs (handlers and
      `call_with_deadline` read it there), and run the app under
      `asyncio.timeout(deadline.remaining())`: when the time is up the handler is cancelled
      and the client gets a **504** "Deadline exceeded" (if no response had started yet);
    - a `DeadlineExceeded` raised by the app (a call further down ran out of time) is answered
      **504** too. Any other exception, and a `TimeoutError` the app raised itself, goes on up.
    - Every answer of its own is problem+json, sent with the given `send_problem`.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        default_seconds: float = 5.0,
        max_seconds: float = 30.0,
        clock: Clock = time.monotonic,
    ) -> None:
        raise NotImplementedError("12.5: keep the app and the settings")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError("12.5: read the budget, 400/504, run the app under it")


async def call_with_deadline(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    deadline: Deadline | None = None,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Sends one request that carries, and respects, what is left of a deadline.

    - `deadline` defaults to `current_deadline.get()` (the request being served); with neither,
      it is a ValueError whose message says a deadline is needed (a call without a deadline
      is exactly what this lesson forbids).
    - A deadline already expired raises DeadlineExceeded *without sending anything*.
    - Otherwise the request goes out with `X-Request-Budget-Ms: deadline.to_header()` (added
      to the caller's `headers`) and with `timeout=deadline.remaining()` for httpx, and an
      httpx.TimeoutException becomes DeadlineExceeded (`raise ... from` it). Other errors, and
      every answer whatever its status, are the caller's to handle.
    - Extra keyword arguments (json=, params=...) go to `client.request`.
    """
    raise NotImplementedError("12.5: refuse when spent, else send the header and the timeout")
