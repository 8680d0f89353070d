"""Raises only for 5xx answers: a 404 or 409 is returned as if it had worked.

05.9 The gateway's async HTTP client for upstream services (capstone piece).

The capstone gateway talks to catalog, orders and notifier over HTTP. Every one of those calls
needs the same care, so it lives in one small wrapper around `httpx.AsyncClient`:

- one client per upstream, created once and reused (its connection pool is the point);
- a base URL, so callers write `await catalog.get_json("/products/7")`;
- a timeout on every request, so a slow upstream cannot hold a gateway request forever;
- the incoming request's id sent along in `X-Request-ID`, so logs of all services line up;
- a bound on concurrent requests, so one busy upstream cannot take every connection;
- upstream failures turned into one clear exception family the gateway maps to 502/504.
"""

from __future__ import annotations

import asyncio
import uuid
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Self

import httpx

REQUEST_ID_HEADER = "X-Request-ID"

# The id of the request being served. The gateway's middleware sets it per incoming request;
# each asyncio task sees its own value (tasks copy the context they are created in).
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


class UpstreamError(Exception):
    """An upstream call failed (given). `status` is the upstream's HTTP status when it
    answered with an error, None when no answer came (timeout, connection failure)."""

    def __init__(self, service: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.status = status


class UpstreamTimeout(UpstreamError):
    """The upstream did not answer in time (given). A gateway answers 504."""


class UpstreamUnavailable(UpstreamError):
    """The upstream could not be reached: refused, reset, DNS... (given). A gateway answers 502."""


class UpstreamClient:
    """An async client for one upstream service.

    `UpstreamClient("catalog", "http://127.0.0.1:8001/api", timeout=2.0, max_concurrency=10)`

    - `service` names the upstream in errors; `base_url` must be an absolute http(s) URL,
      request paths are relative to it ("/products" -> "http://.../api/products").
    - `timeout` (seconds, > 0) bounds every request; `max_concurrency` (>= 1) bounds how many
      requests are in flight at once - the others wait for a slot (the wait is not timed).
    - `transport` is passed on to httpx.AsyncClient (tests use httpx.MockTransport).
    Bad arguments are a ValueError. Use it as `async with UpstreamClient(...) as client:`,
    or call `await client.aclose()` when done.
    """

    def __init__(
        self,
        service: str,
        base_url: str,
        *,
        timeout: float = 5.0,
        max_concurrency: int = 10,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
        self.service = service
        self.timeout = timeout
        self.max_concurrency = max_concurrency
        self._slots = asyncio.Semaphore(max_concurrency)
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout),
            # The pool may hold as many connections as we allow requests: no hidden second queue.
            limits=httpx.Limits(max_connections=max_concurrency),
            transport=transport,
        )

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
        """Closes the underlying httpx client and its connections."""
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Sends one request to the upstream and returns its 2xx/3xx response.

        - Header `X-Request-ID`: the caller's own value in `headers` if given, else the value of
          `request_id_var` in the calling task, else a fresh uuid4 hex.
        - A 4xx or 5xx answer raises UpstreamError with `.status` set (and the body's start in
          the message); no answer within `timeout` raises UpstreamTimeout; any other transport
          failure raises UpstreamUnavailable. The httpx exception is the `__cause__`.
        """
        sent_headers = httpx.Headers({REQUEST_ID_HEADER: request_id_var.get() or uuid.uuid4().hex})
        sent_headers.update(headers or {})  # case-insensitive: the caller's x-request-id wins
        async with self._slots:
            try:
                # asyncio.timeout as well as httpx's: httpx times each phase (connect, read...)
                # separately, our promise is about the whole request.
                async with asyncio.timeout(self.timeout):
                    response = await self._client.request(
                        method, path, json=json, params=params, headers=sent_headers
                    )
            except (TimeoutError, httpx.TimeoutException) as error:
                raise UpstreamTimeout(
                    self.service, f"{method} {path} took longer than {self.timeout}s"
                ) from error
            except httpx.HTTPError as error:
                raise UpstreamUnavailable(
                    self.service, f"{method} {path} failed: {type(error).__name__}: {error}"
                ) from error
        if response.status_code >= 500:
            raise UpstreamError(
                self.service,
                f"{method} {path} answered {response.status_code}: {response.text[:200]}",
                status=response.status_code,
            )
        return response

    async def get_json(self, path: str, *, params: dict[str, Any] | None = None) -> Any:
        """GET `path` and return the decoded JSON body (same errors as request)."""
        response = await self.request("GET", path, params=params)
        return response.json()

    async def post_json(self, path: str, body: Any) -> Any:
        """POST `body` as JSON to `path` and return the decoded JSON answer (same errors)."""
        response = await self.request("POST", path, json=body)
        return response.json()
