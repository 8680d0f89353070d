"""Passwords, tokens and scopes: lesson 08's gateway piece (exercise 08.8, ``gateway_auth``).

The piece holds the logic; this module is the glue that gives it the shop's settings and data:

- Passwords: argon2id (argon2-cffi) with OWASP's minimum parameters, hashed and verified off the
  event loop by the piece's ``PasswordHashing`` (an unknown email costs as long as a wrong
  password).
- Tokens: the piece's ``TokenAuthority`` issues HS256 JWTs with ``sub`` (user id), ``scope``,
  ``iat``, ``nbf``, ``exp``, ``iss`` and ``aud``, and a ``kid`` header naming the key that signed
  them; verifying checks the key, the signature, the times, the issuer *and* the audience, so a
  token signed with the same key for another audience is refused. The shop's ring has one key,
  ``JWT_SECRET`` under :data:`KEY_ID`.
- Scopes: every user gets ``orders:read`` and ``orders:write``; admins also get ``admin``.
  Admin is the role stored with the user (``users.role``), which only an operator sets
  (``journey capstone admin EMAIL``): registering can never make anyone an admin.
- A token is good only while its user exists, and only for the scopes the user's role still
  allows: every check reads the user (``role_of``), so a deleted user's token is a 401 and a
  demoted admin's token loses ``admin`` at once, not when it expires.
- 401 for a missing, expired or forged token; 403 for a valid token without the needed scope;
  both as problem+json with a ``WWW-Authenticate`` challenge.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher

from capstone.common.problems import Problem
from capstone.gateway.settings import GatewaySettings
from capstone.pieces import piece

auth = piece("gateway_auth")

if TYPE_CHECKING:  # the piece is chosen when the shop starts; to mypy its classes are Any
    Principal = Any
else:
    Principal = auth.Principal

ISSUER = "shop-gateway"
AUDIENCE = "shop-api"
KEY_ID = "shop-1"  # the kid of the one key; rotating adds a new one and retires this
TOKEN_URL = "/api/v1/auth/token"

hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
passwords = auth.PasswordHashing(hasher)

# the role of the user with this id, or None when there is no such user (any more)
RoleOf = Callable[[str], Awaitable[str | None]]


def account(user_id: str, role: str) -> Any:
    """The piece's view of a user: who, and whether the stored role is admin."""
    return auth.Account(user_id, is_admin=role == "admin")


def token_authority(settings: GatewaySettings, role_of: RoleOf) -> Any:
    """The gateway's ``TokenAuthority``: its key, its issuer and audience, and the lookup that
    every authentication awaits."""

    async def users(user_id: str) -> Any:
        role = await role_of(user_id)
        return None if role is None else account(user_id, role)

    return auth.TokenAuthority(
        [auth.SigningKey(KEY_ID, settings.jwt_secret.get_secret_value())],
        users=users,
        issuer=ISSUER,
        audience=AUDIENCE,
        ttl_seconds=settings.jwt_ttl_seconds,
    )


def make_authenticator(authority: Any) -> Any:
    """The dependency ``Security(authenticate, scopes=[...])`` that every protected route uses
    (its 401 and 403 become problem+json in the shop's error handlers)."""
    return auth.bearer_dependency(authority, TOKEN_URL)


def unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})
