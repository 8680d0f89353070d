"""09.2 Request-id middleware: read, check, set, echo and propagate ``X-Request-ID``.

One request id per request, seen by everything that serves it, lets a log search follow a
request through several services. The middleware:

- **reads** the incoming ``X-Request-ID`` (a proxy or the calling service may have set it);
- **checks** it: the header comes from outside, so an oversized value or one with control
  characters (a forged log line, terminal escape codes) is refused and replaced by a fresh id -
  and never written to a log as it came;
- **sets** it in a ContextVar for the time of the request, so any code can read it with
  `current_request_id()` and every log line can carry it;
- **echoes** it in the response, so a client can quote it in a bug report;
- and `outgoing_headers` **propagates** it to the next service.

It is a *pure ASGI* middleware (a class with ``async __call__(scope, receive, send)``): it adds
almost nothing per request, unlike Starlette's ``BaseHTTPMiddleware``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
MAX_REQUEST_ID_LENGTH = 128

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
log = logging.getLogger("lesson09.request_ids")

_HEADER_KEY = REQUEST_ID_HEADER.lower().encode("latin-1")  # ASGI header names are lower-case


def new_request_id() -> str:
    """A fresh id: 32 lower-case hex characters (uuid4)."""
    return uuid.uuid4().hex


def is_valid_request_id(value: str) -> bool:
    """1 to MAX_REQUEST_ID_LENGTH characters, each a visible ASCII character ('!' to '~')."""
    return 0 < len(value) <= MAX_REQUEST_ID_LENGTH and all("!" <= c <= "~" for c in value)


def current_request_id() -> str | None:
    """The id of the request being served in this context, or None outside a request."""
    return request_id_var.get()


def outgoing_headers(headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """Headers for a call to another service: a copy of ``headers`` plus X-Request-ID."""
    sent = dict(headers or {})
    current = request_id_var.get()
    if current is not None and not any(k.lower() == "x-request-id" for k in sent):
        sent[REQUEST_ID_HEADER] = current
    return sent


class RequestIdMiddleware:
    """``app = RequestIdMiddleware(app)``: every HTTP request gets a checked request id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self._incoming(scope)
        echoed = (_HEADER_KEY, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), echoed]}
            await send(message)

        token = request_id_var.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)

    def _incoming(self, scope: Scope) -> str:
        for key, value in scope["headers"]:
            if key == _HEADER_KEY:
                text = value.decode("latin-1")
                if is_valid_request_id(text):
                    return text
                fresh = new_request_id()
                # The refused value itself is never logged: only facts about it.
                log.warning(
                    "refused an incoming request id",
                    extra={"request_id": fresh, "refused_length": len(value)},
                )
                return fresh
        return new_request_id()
