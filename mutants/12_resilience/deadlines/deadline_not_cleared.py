"""Never resets current_deadline: a request's deadline leaks past it.

A wrong solution of 12.5 `deadlines`, kept so that its tests prove
they catch this bug. Everything else is the reference solution.
"""

from __future__ import annotations

import asyncio
import json
import math
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
        if seconds < 0:
            raise ValueError(f"a deadline cannot be in the past: {seconds} s")
        return cls(clock() + seconds, clock)

    def remaining(self) -> float:
        return max(0.0, self.expires_at - self.clock())

    @property
    def expired(self) -> bool:
        return self.clock() >= self.expires_at

    def shorten(self, seconds: float) -> Self:
        if seconds < 0:
            raise ValueError(f"a deadline cannot be in the past: {seconds} s")
        return type(self)(min(self.expires_at, self.clock() + seconds), self.clock)

    def to_header(self) -> str:
        return str(math.floor(self.remaining() * 1000))

    @classmethod
    def from_header(
        cls,
        value: str | None,
        *,
        default: float,
        maximum: float,
        clock: Clock = time.monotonic,
    ) -> Self:
        if default < 0 or maximum < 0:
            raise ValueError("default and maximum must not be negative")
        if value is None:
            return cls.after(min(default, maximum), clock=clock)
        text = value.strip()
        if not text.isascii() or not text.isdigit():
            raise InvalidDeadline(
                f"{DEADLINE_HEADER} must be a whole number of milliseconds, got {value!r}"
            )
        return cls.after(min(int(text) / 1000, maximum), clock=clock)


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
        self.app = app
        self.default_seconds = default_seconds
        self.max_seconds = max_seconds
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = {k.decode("latin-1").lower(): v for k, v in scope["headers"]}.get(
            DEADLINE_HEADER.lower()
        )
        try:
            deadline = Deadline.from_header(
                None if raw is None else raw.decode("latin-1"),
                default=self.default_seconds,
                maximum=self.max_seconds,
                clock=self.clock,
            )
        except InvalidDeadline as error:
            await send_problem(send, 400, "Bad deadline header", str(error))
            return
        if deadline.expired:
            await send_problem(send, 504, "Deadline exceeded", "the request's budget was spent")
            return

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        current_deadline.set(deadline)
        try:
            async with asyncio.timeout(deadline.remaining()) as budget:
                await self.app(scope, receive, tracking_send)
        except TimeoutError:
            if not budget.expired():
                raise  # the app's own TimeoutError, not our deadline
            if not started:
                await send_problem(
                    send, 504, "Deadline exceeded", "the request did not finish in its budget"
                )
        except DeadlineExceeded as error:
            if not started:
                await send_problem(send, 504, "Deadline exceeded", str(error))
        finally:
            pass


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
    deadline = deadline if deadline is not None else current_deadline.get()
    if deadline is None:
        raise ValueError(
            "call_with_deadline needs a deadline: pass one, or serve the request "
            "through DeadlineMiddleware so that current_deadline is set"
        )
    if deadline.expired:
        raise DeadlineExceeded(f"no time left to call {method} {url}")
    sent = {**(headers or {}), DEADLINE_HEADER: deadline.to_header()}
    try:
        return await client.request(
            method, url, headers=sent, timeout=deadline.remaining(), **kwargs
        )
    except httpx.TimeoutException as error:
        raise DeadlineExceeded(f"{method} {url} did not answer within its deadline") from error
