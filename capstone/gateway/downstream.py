"""Calling the internal services over HTTP (lesson 05: httpx.AsyncClient; lesson 12: timeouts).

One pooled client per service. The request id travels in ``X-Request-ID`` and the caller in
``X-User-ID``; a service that cannot be reached becomes a 502/504 problem, never a hang.

A kept-alive connection can be closed by the service at any moment (after an error of its own,
or when it restarts): a request sent down it just then fails without an answer. Such a request
was never handled, so it is sent once more on a fresh connection when repeating it is safe
(RFC 9112, 9.3.1): an idempotent method, or a POST with an ``Idempotency-Key``.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import Response

from capstone.common.logging import REQUEST_ID_HEADER, current_request_id
from capstone.common.problems import Problem

PASS_HEADERS = ("retry-after", "x-cache", "idempotent-replayed", "www-authenticate")
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# the connection closed under the request, before any answer: worth one more try
DROPPED = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


class Downstream:
    def __init__(self, name: str, base_url: str, timeout_seconds: float) -> None:
        self.name = name
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_seconds, connect=2.0),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

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
        if rid := current_request_id():
            sent[REQUEST_ID_HEADER] = rid
        if user_id is not None:
            sent["X-User-ID"] = user_id
        retry_safe = method in IDEMPOTENT_METHODS or "Idempotency-Key" in sent
        try:
            try:
                reply = await self.client.request(
                    method, path, json=json, params=params, headers=sent
                )
            except DROPPED:
                if not retry_safe:
                    raise
                reply = await self.client.request(
                    method, path, json=json, params=params, headers=sent
                )
        except httpx.TimeoutException as error:
            raise Problem(504, "Gateway Timeout", f"{self.name} did not answer in time") from error
        except httpx.TransportError as error:
            raise Problem(502, "Bad Gateway", f"{self.name} is unreachable") from error
        kept = {k: v for k, v in reply.headers.items() if k.lower() in PASS_HEADERS}
        return Response(
            reply.content,
            status_code=reply.status_code,
            media_type=reply.headers.get("content-type"),
            headers=kept,
        )

    async def close(self) -> None:
        await self.client.aclose()
