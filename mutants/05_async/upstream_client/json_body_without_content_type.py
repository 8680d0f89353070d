"""A JSON body goes out without Content-Type: application/json.

The capstone gateway calls catalog, orders and notifier over HTTP, on almost every request it
serves. Every one of those calls needs the same care, so it lives in one small client built on
`aiohttp` (the lesson says why aiohttp rather than httpx):

- one `aiohttp.ClientSession` per upstream, made on the first call (a session belongs to the
  event loop it is made on) and reused: its pool of kept-alive connections is the point;
- a bounded pool, and the same bound on calls in flight, so one busy upstream cannot take every
  socket; a call waits for a free slot before its clock starts;
- a total timeout on every call, so a slow upstream cannot hold a gateway request forever;
- the incoming request's id sent along in `X-Request-ID`, so the logs of all services line up;
- a pass-through call, `request`, that returns the upstream's answer as it is (status, headers,
  body) whatever its status: a gateway forwards a 404 or a 409, it does not fail on it;
- a call that got no answer raised as an exception that says what happened, since what the
  caller may do next depends on it: could not connect (never sent: another instance may take
  it), dropped before any answer (send it again only when that is safe), timed out (the upstream
  may still be working on it: never send it again);
- a request whose connection dropped before any answer sent once more when that is safe.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp
from multidict import CIMultiDict
from yarl import URL

REQUEST_ID_HEADER = "X-Request-ID"
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
# RFC 9110, 9.2.2: sending one of these twice has the same effect as sending it once
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
# Shorter than the upstream server's own keep-alive (uvicorn's is 5 s): the client lets an idle
# connection go before the server does, so it never sends a request down one the server is
# closing at that very moment.
KEEPALIVE_SECONDS = 4.0

# The id of the request being served. The gateway's middleware sets it per incoming request;
# each asyncio task sees its own value (tasks copy the context they are created in).
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


class UpstreamError(Exception):
    """An upstream call failed (given). `status` is the upstream's HTTP status when it
    answered with an error, None when no answer came."""

    def __init__(self, service: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.status = status


class UpstreamTimeout(UpstreamError):
    """No answer in time (given). The upstream may still be working on the request, so it is
    never sent again. A gateway answers 504."""


class UpstreamUnavailable(UpstreamError):
    """No usable answer came: the connection failed, or the answer was not HTTP (given).
    A gateway answers 502."""


class UpstreamNotConnected(UpstreamUnavailable):
    """No connection could be made: refused, no route, connecting took too long (given).
    The request was never sent, so another instance may take it, whatever its method.
    A gateway answers 503 when no instance can."""


class UpstreamDropped(UpstreamUnavailable):
    """The connection closed under the request before any answer (given): the upstream may or
    may not have handled it."""


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    """The upstream's answer as it came (given): a gateway passes it on."""

    status: int
    headers: Mapping[str, str]  # case-insensitive, as aiohttp gives them
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)


def safe_to_repeat(method: str, headers: Mapping[str, str]) -> bool:
    """Whether a request whose connection dropped before any answer may be sent once more
    (RFC 9112, 9.3.1): an idempotent method, or a request with an `Idempotency-Key` (the
    upstream then answers a repeat with what it did the first time). `headers` may be any
    mapping: header names are compared case-insensitively."""
    if method.upper() in IDEMPOTENT_METHODS:
        return True
    wanted = IDEMPOTENCY_KEY_HEADER.lower()
    return any(name.lower() == wanted for name in headers)


class UpstreamClient:
    """An async client for one upstream service.

    `UpstreamClient("catalog", "http://127.0.0.1:8001/api", timeout=2.0, max_concurrency=10)`

    - `service` names the upstream in errors; `base_url`, if given, must be an absolute http(s)
      URL: request paths are appended to it ("/products" -> "http://.../api/products"). A call
      may name another `base_url` (another instance of the same service): it shares the pool.
    - `timeout` (seconds, > 0) bounds every call, from connecting to the last byte of the
      answer; `connect_timeout` (> 0, default `timeout`) bounds connecting alone, so that a dead
      address fails fast and the caller can go elsewhere.
    - `max_concurrency` (>= 1) bounds the calls in flight, and the pool holds as many
      connections; the other calls wait for a slot, and that wait is not timed.
    Bad arguments are a ValueError (`max_concurrency=1` is fine). The session is made on the
    first call, on the running event loop. Use the client as `async with UpstreamClient(...) as
    client:`, or call `await client.aclose()` when done; a call after that raises RuntimeError.
    """

    def __init__(
        self,
        service: str,
        base_url: str | None = None,
        *,
        timeout: float = 5.0,
        connect_timeout: float | None = None,
        max_concurrency: int = 10,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        if connect_timeout is not None and connect_timeout <= 0:
            raise ValueError(f"connect_timeout must be positive, got {connect_timeout}")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        if base_url is not None:
            url = URL(base_url)
            if url.scheme not in ("http", "https") or not url.host:
                raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
            base_url = base_url.rstrip("/")
        self.service = service
        self.base_url = base_url
        self.timeout = timeout
        self.connect_timeout = connect_timeout or timeout
        self.max_concurrency = max_concurrency
        self._slots = asyncio.Semaphore(max_concurrency)
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Closes the session and its connections; the client takes no call after this."""
        self._closed = True
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
            await asyncio.sleep(0)  # lets the connections' transports finish closing

    def _open_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError(f"{self.service}: the client has been closed")
        if self._session is None:  # made here, not in __init__: it needs the running loop
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self.max_concurrency, keepalive_timeout=KEEPALIVE_SECONDS
                ),
                timeout=aiohttp.ClientTimeout(
                    total=self.timeout, sock_connect=self.connect_timeout
                ),
            )
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        base_url: str | None = None,
    ) -> UpstreamResponse:
        """Sends one request to the upstream and returns its answer, whatever its status.

        - Header `X-Request-ID`: the caller's own value in `headers` if given, else the value of
          `request_id_var` in the calling task, else a fresh uuid4 hex. `json` is sent as a
          JSON body.
        - No answer: UpstreamNotConnected when no connection could be made, UpstreamTimeout
          when none came within `timeout`, UpstreamDropped when the connection closed before
          any answer (after sending the request once more if `safe_to_repeat`), and
          UpstreamUnavailable for any other failure. The aiohttp exception is the `__cause__`.
        """
        url = (base_url or self._default_base()) + path
        sent = CIMultiDict(headers or {})  # case-insensitive: the caller's x-request-id wins
        if REQUEST_ID_HEADER not in sent:
            sent[REQUEST_ID_HEADER] = request_id_var.get() or uuid.uuid4().hex
        body = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
        session = self._open_session()
        async with self._slots:  # the wait for a slot is outside the call's timeout
            try:
                return await self._exchange(session, method, url, body, params, sent)
            except UpstreamDropped:
                if not safe_to_repeat(method, sent):
                    raise  # it may have been handled: sending it again could do it twice
            # A kept-alive connection the upstream closed just as the request went out: the
            # request was most likely never handled, and doing it again is safe. (aiohttp
            # already does this by itself for the idempotent methods, once.)
            return await self._exchange(session, method, url, body, params, sent)

    def _default_base(self) -> str:
        if self.base_url is None:
            raise ValueError(f"{self.service}: no base_url, neither the client's nor the call's")
        return self.base_url

    async def _exchange(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        body: bytes | None,
        params: Mapping[str, Any] | None,
        headers: CIMultiDict[str],
    ) -> UpstreamResponse:
        what = f"{method} {url}"
        try:
            async with session.request(
                method, url, data=body, params=params, headers=headers
            ) as reply:
                return UpstreamResponse(reply.status, reply.headers, await reply.read())
        # The order matters: a connect timeout is also a TimeoutError, and a refused
        # connection is also a ClientOSError.
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as error:
            raise UpstreamNotConnected(self.service, f"{what}: no connection: {error}") from error
        except TimeoutError as error:
            raise UpstreamTimeout(
                self.service, f"{what} took longer than {self.timeout}s"
            ) from error
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as error:
            raise UpstreamDropped(
                self.service, f"{what}: the connection closed before any answer: {error}"
            ) from error
        except aiohttp.ClientError as error:
            raise UpstreamUnavailable(
                self.service, f"{what} failed: {type(error).__name__}: {error}"
            ) from error

    async def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """GET `path` and return the decoded JSON body. A 4xx or 5xx answer raises
        UpstreamError with `.status` set (and the body's start in the message); the other
        errors are those of `request`."""
        reply = await self.request("GET", path, params=params, headers=headers)
        return self._decoded("GET", path, reply)

    async def post_json(
        self, path: str, body: Any, *, headers: Mapping[str, str] | None = None
    ) -> Any:
        """POST `body` as JSON to `path` and return the decoded JSON answer (as get_json)."""
        reply = await self.request("POST", path, json=body, headers=headers)
        return self._decoded("POST", path, reply)

    def _decoded(self, method: str, path: str, reply: UpstreamResponse) -> Any:
        if reply.status >= 400:
            start = reply.body[:200].decode(errors="replace")
            raise UpstreamError(
                self.service,
                f"{method} {path} answered {reply.status}: {start}",
                status=reply.status,
            )
        return reply.json()
