"""Calling the internal services over HTTP (lesson 05: httpx.AsyncClient; lesson 12: timeouts).

One pooled client per service. The request id travels in ``X-Request-ID``, the caller in
``X-User-ID`` and the proof that the gateway sent it in ``X-Internal-Token``. A service that is
down (refuses connections) is a 503 with a jittered ``Retry-After``; one that breaks the
connection is a 502 and one too slow a 504: never a hang.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import Response

from capstone.common.internal import INTERNAL_TOKEN_HEADER
from capstone.common.logging import REQUEST_ID_HEADER, current_request_id
from capstone.common.problems import Problem, unavailable

PASS_HEADERS = ("retry-after", "x-cache", "idempotent-replayed", "www-authenticate")


class Downstream:
    def __init__(
        self, name: str, base_url: str, timeout_seconds: float, internal_token: str
    ) -> None:
        self.name = name
        self.internal_token = internal_token
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
        sent[INTERNAL_TOKEN_HEADER] = self.internal_token
        if rid := current_request_id():
            sent[REQUEST_ID_HEADER] = rid
        if user_id is not None:
            sent["X-User-ID"] = user_id
        try:
            reply = await self.client.request(method, path, json=json, params=params, headers=sent)
        except httpx.ConnectTimeout as error:
            raise unavailable(self.name) from error
        except httpx.TimeoutException as error:
            raise Problem(504, "Gateway Timeout", f"{self.name} did not answer in time") from error
        except httpx.ConnectError as error:  # nothing listens: the service is down
            raise unavailable(self.name) from error
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
