"""Limits on what one request may cost (lesson 08: abuse; lesson 12: timeouts).

- A body larger than ``max_body_bytes`` is refused with 413: at once when ``Content-Length``
  says so, and while it streams in when it does not (chunked bodies carry no length).
- A body that arrives too slowly (a client that sends half of it and waits) is cut off with
  408 once ``body_timeout_seconds`` pass between two chunks, so it cannot hold a worker.
- Headers that never end (the "slowloris" attack: a connection that sends a header line every
  few seconds, or half of one and waits) are cut off after ``HEADER_TIMEOUT_SECONDS``: uvicorn's
  own keep-alive timeout covers an idle connection, not one that has started a request.

The first two are plain ASGI, in front of the app, so every route of every service gets them; the
third wraps uvicorn's HTTP protocol (see :func:`with_header_timeout`).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from capstone.common.problems import problem_response

# the same for every service; the environment may change them (the tests shorten the timeout)
MAX_BODY_BYTES = int(os.environ.get("MAX_BODY_BYTES", 64 * 1024))
BODY_TIMEOUT_SECONDS = float(os.environ.get("BODY_TIMEOUT_SECONDS", 10.0))
HEADER_TIMEOUT_SECONDS = float(os.environ.get("HEADER_TIMEOUT_SECONDS", 10.0))


class RequestLimitsMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int = MAX_BODY_BYTES,
        body_timeout_seconds: float = BODY_TIMEOUT_SECONDS,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == -1 or (declared or 0) > self.max_body_bytes:
            status, detail = (
                (400, "Content-Length is not a number")
                if declared == -1
                else (413, f"the body is larger than {self.max_body_bytes} bytes")
            )
            title = "Bad Request" if status == 400 else "Content Too Large"
            await problem_response(status, title, detail, instance=scope["path"])(
                scope, receive, send
            )
            return
        await self.app(scope, self._limited(receive), send)

    def _limited(self, receive: Receive) -> Receive:
        received = 0
        complete = False

        async def limited_receive() -> Message:
            nonlocal received, complete
            if complete:  # the body is in: what is left is waiting for a disconnect
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout)
            except TimeoutError:
                # an HTTPException, so FastAPI passes it on instead of calling it a parse error
                raise HTTPException(408, "the body did not arrive in time") from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > self.max_body_bytes:
                    raise HTTPException(413, f"the body is larger than {self.max_body_bytes} bytes")
            else:
                complete = True
            return message

        return limited_receive


def _content_length(scope: Scope) -> int | None:
    """The declared length, None when absent, -1 when it is not a number."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else -1
    return None


def with_header_timeout(
    protocol: type[asyncio.Protocol], timeout: float = HEADER_TIMEOUT_SECONDS
) -> type[asyncio.Protocol]:
    """Uvicorn's HTTP protocol class (h11 or httptools), closing a connection whose request
    headers are not complete ``timeout`` seconds after its first byte arrived.

    Both protocols set ``cycle`` when a request's headers are complete, and mark it
    ``response_complete`` when it is answered: in between nothing is cut off (a slow body is
    the middleware's business, a slow app is not the client's fault)."""
    base: Any = protocol

    class HeaderTimeoutProtocol(base):
        _header_timer: asyncio.TimerHandle | None = None

        def _awaiting_headers(self) -> bool:
            cycle = getattr(self, "cycle", None)
            return cycle is None or bool(cycle.response_complete)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if not self._awaiting_headers():
                self._cancel_header_timer()
            elif self._header_timer is None and not self.transport.is_closing():
                self._header_timer = asyncio.get_running_loop().call_later(
                    timeout, self._headers_too_slow
                )

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if self._awaiting_headers() and not self.transport.is_closing():
                self.transport.close()

        def _cancel_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_header_timer()
            super().connection_lost(exc)

    HeaderTimeoutProtocol.__name__ = f"HeaderTimeout{protocol.__name__}"
    return HeaderTimeoutProtocol
