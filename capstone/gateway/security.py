"""Passwords, tokens and scopes (lesson 08).

- Passwords: argon2id (argon2-cffi) with OWASP's minimum parameters, hashed off the event loop.
- Tokens: HS256 JWTs (PyJWT) with ``sub`` (user id), ``scope`` (space separated), ``iat``,
  ``exp``, ``iss`` and ``aud``; issued by the OAuth2 password flow at ``/api/v1/auth/token``.
  Verifying checks the signature, the expiry, the issuer *and* the audience, so a token signed
  with the same key for another audience is refused.
- Scopes: every user gets ``orders:read`` and ``orders:write``; admins also get ``admin``.
  Admin is the role stored with the user (``users.role``), which only an operator sets
  (``journey capstone admin EMAIL``): registering can never make anyone an admin.
- A token is good only while its user exists, and only for the scopes the user's role still
  allows: every check reads the user, so a deleted user's token is a 401 and a demoted admin's
  token loses ``admin`` at once, not when it expires.
- 401 for a missing, expired or forged token; 403 for a valid token without the needed scope.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer, SecurityScopes

from capstone.common.problems import Problem
from capstone.gateway.settings import GatewaySettings

SCOPES = {
    "orders:read": "read your orders and notifications",
    "orders:write": "place orders",
    "admin": "manage products and stock",
}
USER_SCOPES = ("orders:read", "orders:write")
ISSUER = "shop-gateway"
AUDIENCE = "shop-api"
ALGORITHM = "HS256"

hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# verified when the email is unknown, so a wrong email costs as long as a wrong password
_DUMMY_HASH = hasher.hash("not-a-real-password")

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", scopes=SCOPES, auto_error=False)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerifyMismatchError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def allowed_scopes(role: str) -> list[str]:
    return [*USER_SCOPES, "admin"] if role == "admin" else list(USER_SCOPES)


def grant(requested: list[str], role: str) -> list[str]:
    """The scopes a token gets: what was asked for and is allowed, or all allowed if none asked."""
    allowed = allowed_scopes(role)
    return [s for s in allowed if s in requested] if requested else allowed


def issue_token(settings: GatewaySettings, user_id: str, scopes: list[str]) -> str:
    now = int(time.time())
    claims = {
        "sub": user_id,
        "scope": " ".join(scopes),
        "iat": now,
        "exp": now + settings.jwt_ttl_seconds,
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=ALGORITHM)


@dataclass(frozen=True)
class Principal:
    user_id: str
    scopes: frozenset[str]


def unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


# the role of the user with this id, or None when there is no such user (any more)
RoleOf = Callable[[str], Awaitable[str | None]]


def make_authenticator(settings: GatewaySettings, role_of: RoleOf) -> Any:
    """The dependency ``Security(authenticate, scopes=[...])`` that every protected route uses."""
    secret = settings.jwt_secret.get_secret_value()

    async def authenticate(
        security_scopes: SecurityScopes,
        token: Annotated[str | None, Depends(oauth2_scheme)],
    ) -> Principal:
        if not token:
            raise unauthorized("a bearer token is required")
        try:
            claims = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                audience=AUDIENCE,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise unauthorized(f"invalid token: {error}") from error
        user_id = str(claims["sub"])
        role = await role_of(user_id)
        if role is None:
            raise unauthorized("this token's user no longer exists")
        # what the token says, as far as the user's role still allows it
        granted = frozenset(str(claims.get("scope", "")).split()) & set(allowed_scopes(role))
        missing = [s for s in security_scopes.scopes if s not in granted]
        if missing:
            raise Problem(
                403,
                "Forbidden",
                f"this token lacks the scope {' '.join(missing)}",
                headers={"WWW-Authenticate": f'Bearer scope="{security_scopes.scope_str}"'},
            )
        return Principal(user_id=user_id, scopes=granted)

    return authenticate
