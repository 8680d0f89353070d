"""The gateway's rate limits: lesson 08's piece (exercise 08.9, ``gateway_limits``) with the
gateway's limits, and a refusal turned into a 429 problem with ``Retry-After``.

The counting is the piece's: a sliding one-minute window in a Redis sorted set, checked and
updated by one Lua script (one round trip, atomic across every gateway instance), where a
refused request is not counted. Logins go through the piece's login throttle (per client
address, and per account from that address) and then one more limit per account from every
address together, high enough that a guesser cannot lock the owner out, low enough to slow a
distributed one.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from capstone.common.problems import Problem
from capstone.gateway.settings import GatewaySettings
from capstone.pieces import piece

WINDOW_SECONDS = 60


class Decision(Protocol):
    """What the piece answers for one request (``gateway_limits.Decision``)."""

    allowed: bool
    limit: int
    retry_after: float


def refuse_unless_allowed(decision: Decision, action: str) -> None:
    """Raises the 429 problem for a refused request; returns for an allowed one."""
    if decision.allowed:
        return
    retry_after = max(1, math.ceil(decision.retry_after))
    raise Problem(
        429,
        "Too Many Requests",
        f"at most {decision.limit} {action} requests a minute; retry in {retry_after}s",
        headers={"Retry-After": str(retry_after)},
    )


class RateLimits:
    """Every limit of the gateway, per minute; keys under ``<key_prefix>:ratelimit:``."""

    def __init__(self, redis: Any, settings: GatewaySettings) -> None:
        limits = piece("gateway_limits")
        prefix = f"{settings.key_prefix}:ratelimit"

        def per_minute(action: str, limit: int) -> Any:
            return limits.SlidingWindowLimiter(
                redis, prefix=f"{prefix}:{action}", limit=limit, window_seconds=WINDOW_SECONDS
            )

        self._register = per_minute("register", settings.register_per_client_per_minute)
        self._orders = per_minute("orders", settings.rate_limit_per_minute)
        self._login_account = per_minute("login-account", settings.login_per_account_per_minute)
        self._login = limits.LoginThrottle(
            redis,
            prefix=f"{prefix}:login",
            per_client=settings.login_per_client_per_minute,
            per_account=settings.rate_limit_per_minute,
            window_seconds=WINDOW_SECONDS,
        )

    async def register(self, client: str) -> None:
        """A registration from the client address ``client``."""
        refuse_unless_allowed(await self._register.hit(client), "registration")

    async def order(self, user_id: str) -> None:
        """An order placed by ``user_id``: the one check on the hot path, one round trip."""
        refuse_unless_allowed(await self._orders.hit(user_id), "order")

    async def login(self, account: str, client: str) -> None:
        """A login attempt at ``account`` from ``client``, counted before the password is
        checked."""
        refuse_unless_allowed(await self._login.attempt(account, client), "login")
        refuse_unless_allowed(await self._login_account.hit(account), "login")
