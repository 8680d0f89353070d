"""Who may call an internal service (lesson 08): only the gateway, which proves it with a token.

Catalog, orders and notifier trust ``X-User-ID`` because only the gateway sets it, after it has
checked the caller's JWT. A caller that reaches them directly could set any user id, so every
request must carry ``X-Internal-Token`` with the token the deployment shares between the gateway
and the services (``INTERNAL_TOKEN``, generated like the JWT secret). Health and metrics stay
open: they are what orchestrators and Prometheus probe, and they reveal no user's data.
"""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from capstone.common.problems import problem_response

INTERNAL_TOKEN_HEADER = "X-Internal-Token"
OPEN_PATHS = frozenset({"/health/live", "/health/ready", "/metrics"})


def has_internal_token(scope: Scope, token: str) -> bool:
    """True when the request carries ``token`` in ``X-Internal-Token`` (constant-time compare)."""
    wanted = INTERNAL_TOKEN_HEADER.lower().encode()
    for name, value in scope["headers"]:
        if name == wanted:
            return hmac.compare_digest(value, token.encode())
    return False


class InternalTokenMiddleware:
    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] in OPEN_PATHS
            or has_internal_token(scope, self.token)
        ):
            await self.app(scope, receive, send)
            return
        reply = problem_response(
            401,
            "Unauthorized",
            f"internal service: {INTERNAL_TOKEN_HEADER} is missing or wrong",
            instance=scope["path"],
        )
        await reply(scope, receive, send)
