"""Calling the internal services over HTTP (lesson 05: the client; lesson 06: which instance).

Lesson 05's piece, ``UpstreamClient`` (exercise 05.9), makes the calls: one long-lived aiohttp
session per service, opened on the first call (a session belongs to the event loop that creates
it), with a bounded pool of kept-alive connections, so every call reuses a connection instead of
opening one; a timeout on every call; and an exception that says how a call got no answer.
aiohttp, not httpx, because the gateway spends its time here: under load httpx's pool cost the
gateway most of its CPU, aiohttp a fraction of it.

This module is the glue around it. The request id travels in ``X-Request-ID``, the caller in
``X-User-ID``, the proof that the gateway sent it in ``X-Internal-Token``, and (when tracing is
on) the CLIENT span of the call in ``traceparent``. A service that is down (refuses connections)
is a 503 with a jittered ``Retry-After``; one that breaks the connection is a 502 and one too
slow a 504: never a hang. An answer, whatever its status, passes through as it came.

A kept-alive connection can be closed by the service at any moment (after an error of its own,
or when it restarts): a request sent down it just then fails without an answer. Such a request
was most likely never handled, so the piece sends it once more on another connection when
repeating it is safe (RFC 9112, 9.3.1): an idempotent method, or a POST with an
``Idempotency-Key``.

Where a call goes (lesson 06): a service runs as several instances, each registered in the
registry, and :class:`Discovered` leases one instance per attempt from lesson 06's discovery
client, which balances over them and skips one whose calls keep failing. A call that could not
even connect to an instance (it died, or is restarting) was never sent, so it is sent to another
instance, whatever its method. A :class:`FixedAddress` (``CATALOG_URL``...) is one address that
balances by itself, such as a Kubernetes Service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from fastapi import Response
from opentelemetry import trace
from prometheus_client import Counter

from capstone.common import tracing
from capstone.common.discovery import no_instance_error
from capstone.common.internal import INTERNAL_TOKEN_HEADER
from capstone.common.logging import REQUEST_ID_HEADER, current_request_id
from capstone.common.observability import request_path
from capstone.common.problems import PROBLEM_JSON, Problem, unavailable
from capstone.pieces import piece

upstream = piece("upstream_client")  # lesson 05's client

PASS_HEADERS = (
    "retry-after",
    "x-cache",
    "cache-control",
    "idempotent-replayed",
    "www-authenticate",
)
# one call, at most this many attempts: enough to get past a dead instance (passive health
# skips it after DISCOVERY_FAILURE_THRESHOLD failures)
ATTEMPTS = 3
# counted only when an attempt fails: the calls that go through cost nothing here
FAILED_ATTEMPTS = Counter(
    "gateway_downstream_failures_total",
    "Attempts to call an internal service that got no answer, per instance",
    ["service", "instance", "reason"],
)


class Target(Protocol):
    """Where one attempt goes."""

    @property
    def base_url(self) -> str: ...


class Instances(Protocol):
    """Where a service's calls go: ``async with instances.lease() as target:`` per attempt.

    Leaving the block with an exception tells the instances that ``target`` failed."""

    fails_over: bool  # whether another attempt can reach another instance

    def lease(self) -> AbstractAsyncContextManager[Target]: ...


@dataclass(frozen=True)
class FixedAddress:
    """One address that balances by itself (a Kubernetes Service, a compose name)."""

    base_url: str
    fails_over = False

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[FixedAddress]:
        yield self


class Discovered:
    """The registered instances of ``service``, through lesson 06's ``DiscoveryClient``: a
    cached snapshot of the registry (no Redis round trip per call), round robin, and passive
    health (an instance that failed is skipped for a while)."""

    fails_over = True

    def __init__(self, discovery: Any, service: str) -> None:
        self.discovery = discovery
        self.service = service
        self._none_available = no_instance_error()

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[Target]:
        # the piece's lease judges the instance by how the block ends: an exception is a failure
        try:
            async with self.discovery.lease(self.service) as target:
                yield target
        except self._none_available as error:  # only picking an instance raises it
            raise unavailable(self.service) from error


CONNECTIONS = 100  # per service; the gateway seldom has more calls in flight to one of them
CONNECT_SECONDS = 2.0  # a dead instance fails fast, and the call goes to another one


class Downstream:
    """An internal service: ``where`` is its :class:`Instances`, or one base URL.

    Lesson 05's client (the piece ``upstream_client``) does the HTTP: its pool, its timeouts,
    the request id and the exceptions that tell what went wrong. Here: which instance, which
    headers, the failed attempts counted, and each failure answered as the problem a client
    gets."""

    def __init__(
        self, name: str, where: Instances | str, timeout_seconds: float, internal_token: str
    ) -> None:
        self.name = name
        self.internal_token = internal_token
        self.instances = FixedAddress(where.rstrip("/")) if isinstance(where, str) else where
        self.client = upstream.UpstreamClient(
            name,
            timeout=timeout_seconds,
            connect_timeout=min(CONNECT_SECONDS, timeout_seconds),
            max_concurrency=CONNECTIONS,
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
        # the id the logging middleware bound for this request (else the piece would make one)
        if rid := current_request_id():
            sent[REQUEST_ID_HEADER] = rid
        if user_id is not None:
            sent["X-User-ID"] = user_id
        for attempt in range(1, ATTEMPTS + 1):
            # leaving this block with an exception marks the instance as failing
            try:
                async with self.instances.lease() as target:
                    return await self._send(target.base_url, method, path, json, params, sent)
            except upstream.UpstreamNotConnected as error:  # never sent: another instance may
                self._failed(target, "not connected")
                if attempt == ATTEMPTS or not self.instances.fails_over:
                    raise unavailable(self.name) from error  # nothing listens: it is down
            except upstream.UpstreamDropped as error:  # sent again already, if that was safe
                self._failed(target, "dropped")
                raise Problem(502, "Bad Gateway", f"{self.name} is unreachable") from error
            except upstream.UpstreamTimeout as error:  # it may still be working on it
                self._failed(target, "timeout")
                raise Problem(
                    504, "Gateway Timeout", f"{self.name} did not answer in time"
                ) from error
            except upstream.UpstreamUnavailable as error:
                self._failed(target, "broken")
                raise Problem(502, "Bad Gateway", f"{self.name} is unreachable") from error
        raise AssertionError("the last attempt returns or raises")

    def _failed(self, target: Target, reason: str) -> None:
        FAILED_ATTEMPTS.labels(self.name, target.base_url, reason).inc()

    async def _send(
        self,
        base_url: str,
        method: str,
        path: str,
        json: Any,
        params: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> Response:
        if not tracing.enabled():
            return await self._exchange(base_url, method, path, json, params, headers)
        attributes = {
            "http.request.method": method,
            "url.full": base_url + path,
            "peer.service": self.name,
        }
        with tracing.client_span(f"{method} {self.name}", **attributes) as trace_headers:
            answer = await self._exchange(
                base_url, method, path, json, params, headers | trace_headers
            )
            trace.get_current_span().set_attribute("http.response.status_code", answer.status_code)
            return answer

    async def _exchange(
        self,
        base_url: str,
        method: str,
        path: str,
        json: Any,
        params: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> Response:
        reply = await self.client.request(
            method, path, json=json, params=params, headers=headers, base_url=base_url
        )
        content = reply.body
        media_type = reply.headers.get("content-type")
        if media_type is not None and media_type.startswith(PROBLEM_JSON):
            content = with_instance(content, request_path.get())
        kept = {k: v for k, v in reply.headers.items() if k.lower() in PASS_HEADERS}
        return Response(content, status_code=reply.status, media_type=media_type, headers=kept)

    async def close(self) -> None:
        await self.client.aclose()


def with_instance(problem: bytes, path: str) -> bytes:
    """A service's problem names the service's own path in ``instance`` (``/orders/42``); the
    client asked the gateway for another one (``/api/v1/orders/42``), and internal paths stay
    internal. Errors only: a success passes through untouched."""
    try:
        body = orjson.loads(problem)
    except orjson.JSONDecodeError:
        return problem
    if not isinstance(body, dict) or not path:
        return problem
    body["instance"] = path
    return orjson.dumps(body)
