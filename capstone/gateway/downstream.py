"""Calling the internal services over HTTP (lesson 05: aiohttp; lesson 12: timeouts).

One long-lived aiohttp session per service, opened on the first call (a session belongs to the
event loop that creates it), with a bounded pool of kept-alive connections: every call reuses a
connection instead of opening one. aiohttp, not httpx, because the gateway spends its time here:
under load httpx's pool cost the gateway most of its CPU, aiohttp a fraction of it.

The request id travels in ``X-Request-ID``, the caller in ``X-User-ID``, the proof that the
gateway sent it in ``X-Internal-Token``, and (when tracing is on) the CLIENT span of the call in
``traceparent``. A service that is down (refuses connections) is a 503 with a jittered
``Retry-After``; one that breaks the connection is a 502 and one too slow a 504: never a hang.

A kept-alive connection can be closed by the service at any moment (after an error of its own,
or when it restarts): a request sent down it just then fails without an answer. Such a request
was never handled, so it is sent once more on a fresh connection when repeating it is safe
(RFC 9112, 9.3.1): an idempotent method, or a POST with an ``Idempotency-Key``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson
from fastapi import Response
from opentelemetry import trace

from capstone.common import tracing
from capstone.common.internal import INTERNAL_TOKEN_HEADER
from capstone.common.logging import REQUEST_ID_HEADER, current_request_id
from capstone.common.problems import Problem, unavailable

PASS_HEADERS = (
    "retry-after",
    "x-cache",
    "cache-control",
    "idempotent-replayed",
    "www-authenticate",
)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# the connection closed under the request, before any answer: worth one more try
DROPPED = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)
CONNECTIONS = 100  # per service; the gateway seldom has more calls in flight to one of them
# shorter than uvicorn's keep-alive (5 s): the gateway lets an idle connection go before the
# service does, so it never picks one the service is closing at that very moment
KEEPALIVE_SECONDS = 4.0


class Downstream:
    def __init__(
        self, name: str, base_url: str, timeout_seconds: float, internal_token: str
    ) -> None:
        self.name = name
        self.internal_token = internal_token
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds, sock_connect=2.0)
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=CONNECTIONS, keepalive_timeout=KEEPALIVE_SECONDS
                ),
                timeout=self.timeout,
                auto_decompress=False,  # the internal services do not compress
            )
        return self._session

    async def call(
        self,
        method: str,
        path: str,
        *,
        user_id: str | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Forwards a call and answers the service's status, body and useful headers as they are."""
        sent = dict(headers or {})
        sent[INTERNAL_TOKEN_HEADER] = self.internal_token
        if rid := current_request_id():
            sent[REQUEST_ID_HEADER] = rid
        if user_id is not None:
            sent["X-User-ID"] = user_id
        body = None
        if json is not None:
            body = orjson.dumps(json)
            sent["Content-Type"] = "application/json"
        retry_safe = method in IDEMPOTENT_METHODS or "Idempotency-Key" in sent
        try:
            try:
                return await self._send(method, path, body, params, sent)
            except DROPPED:
                if not retry_safe:
                    raise
                return await self._send(method, path, body, params, sent)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as error:
            raise unavailable(self.name) from error  # nothing listens: the service is down
        except TimeoutError as error:
            raise Problem(504, "Gateway Timeout", f"{self.name} did not answer in time") from error
        except aiohttp.ClientError as error:
            raise Problem(502, "Bad Gateway", f"{self.name} is unreachable") from error

    async def _send(
        self,
        method: str,
        path: str,
        body: bytes | None,
        params: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> Response:
        url = self.base_url + path
        if not tracing.enabled():
            return await self._exchange(method, url, body, params, headers)
        attributes = {"http.request.method": method, "url.full": url, "peer.service": self.name}
        with tracing.client_span(f"{method} {self.name}", **attributes) as trace_headers:
            answer = await self._exchange(method, url, body, params, headers | trace_headers)
            trace.get_current_span().set_attribute("http.response.status_code", answer.status_code)
            return answer

    async def _exchange(
        self,
        method: str,
        url: str,
        body: bytes | None,
        params: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> Response:
        async with self.session.request(
            method, url, data=body, params=params, headers=headers
        ) as reply:
            content = await reply.read()
            kept = {k: v for k, v in reply.headers.items() if k.lower() in PASS_HEADERS}
            return Response(
                content,
                status_code=reply.status,
                media_type=reply.headers.get("content-type"),
                headers=kept,
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            await asyncio.sleep(0)  # lets the connections' transports finish closing
