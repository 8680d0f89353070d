"""08.8 The gateway's passwords, tokens and scopes (capstone piece, stage 1 of 2).

The capstone gateway (capstone/gateway/) is the shop's only public API. This module is all of
its authentication, with every dependency handed in, so the gateway only wires it up:

- `PasswordHashing`: argon2id through an injected `argon2.PasswordHasher`, off the event loop
  (a hash takes tens of milliseconds of CPU: on the loop it would stall every other request).
- `TokenAuthority`: issues HS256 JWTs with key ids, verifies them against a ring of keys where
  a retired key keeps verifying for an overlap and then stops, checks expiry against an
  injected clock, and asks an injected user lookup whether the token's user still exists.
- `bearer_dependency`: the FastAPI dependency for `Security(dependency, scopes=[...])`.

Nothing here reads settings, environment variables or globals: the gateway passes in its keys,
its clock, its user lookup and its hasher, and a test passes in cheap or fake ones.
"""

import asyncio  # noqa: F401 - you will need it
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field  # noqa: F401 - you will need it
from typing import Annotated, Any  # noqa: F401 - you will need it

import jwt  # noqa: F401 - you will need it
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError  # noqa: F401 - you will need it
from fastapi import Depends, HTTPException  # noqa: F401 - you will need it
from fastapi.security import OAuth2PasswordBearer, SecurityScopes  # noqa: F401 - you will need it

SCOPES = {
    "orders:read": "read your orders and notifications",
    "orders:write": "place orders",
    "admin": "manage products and stock",
}
USER_SCOPES = ("orders:read", "orders:write")
ADMIN_SCOPE = "admin"
ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32
KID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Account:
    """What the user lookup returns for a user id: the user exists, and their stored role."""

    user_id: str
    is_admin: bool = False


UserLookup = Callable[[str], Awaitable[Account | None]]


@dataclass(frozen=True)
class Principal:
    """The caller of a request, once authenticated: who, and what this request may do."""

    user_id: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class SigningKey:
    """A key of the ring. `retired_at` is None for the one signing key, else the time (seconds
    since the epoch) it stopped signing. Its repr never shows the secret."""

    kid: str
    secret: str  # 08.8: keep it out of repr()
    retired_at: float | None = None


@dataclass(frozen=True)
class IssuedToken:
    """What the token endpoint answers (OAuth2's access token response)."""

    access_token: str
    expires_in: int
    scope: str
    token_type: str = "bearer"


class AuthError(Exception):
    """A request is refused: `status` 401 (who are you?) or 403 (not allowed), a `detail` for
    the client, and the `headers` to send (always a WWW-Authenticate challenge)."""

    def __init__(self, status: int, detail: str, headers: dict[str, str]) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.headers = headers


class PasswordHashing:
    """argon2id hashing and verifying, run in a worker thread (`asyncio.to_thread`)."""

    def __init__(self, hasher: PasswordHasher) -> None:
        raise NotImplementedError("08.8: keep the hasher, make a dummy hash")

    async def hash(self, password: str) -> str:
        """The encoded argon2id hash of `password` (ValueError for an empty password)."""
        raise NotImplementedError("08.8: hash in a worker thread (asyncio.to_thread)")

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when `password` matches `stored_hash`.

        `stored_hash` None means "no such user": a dummy hash is verified all the same (so an
        attacker cannot tell unknown users by the time the answer takes) and the result is
        False. A mismatch or a value that is not an argon2 hash is False, never an exception.
        """
        raise NotImplementedError("08.8: verify (a dummy hash for None) in a worker thread")

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when `stored_hash` was made with other parameters than the hasher's."""
        raise NotImplementedError("08.8: ask the hasher")


class TokenAuthority:
    """Issues and verifies the gateway's access tokens.

    `keys`: exactly one key with `retired_at` None signs new tokens; the others are retired
    and verify the tokens they signed while `clock() < retired_at + overlap_seconds`, then are
    refused. Anything else is a ValueError that says what: "exactly one key must be the
    signing key", "key ids must be unique", a kid that does not match KID_PATTERN, or a
    "secret" shorter than MIN_SECRET_BYTES bytes. `users` is awaited with a token's "sub" on every
    authentication. `clock()` is the current time in seconds since the epoch. Neither its
    repr nor any error it raises shows a secret.
    """

    def __init__(
        self,
        keys: Sequence[SigningKey],
        *,
        users: UserLookup,
        issuer: str,
        audience: str,
        ttl_seconds: int = 900,
        overlap_seconds: float = 900,
        leeway_seconds: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        raise NotImplementedError("08.8: validate the keys and keep every dependency")

    @staticmethod
    def allowed_scopes(account: Account) -> list[str]:
        """USER_SCOPES, plus ADMIN_SCOPE for an admin, in SCOPES order."""
        raise NotImplementedError("08.8: USER_SCOPES, plus ADMIN_SCOPE for admins")

    def grant(self, account: Account, requested: Iterable[str] = ()) -> list[str]:
        """The scopes a new token gets: the requested ones the account is allowed (all allowed
        ones when nothing is requested), in SCOPES order. Unknown or forbidden scopes are
        silently left out."""
        raise NotImplementedError("08.8: the requested scopes that are allowed, or all allowed")

    def issue(self, account: Account, requested: Iterable[str] = ()) -> IssuedToken:
        """A token for `account` with the granted scopes.

        Header: "alg" HS256 and "kid" of the signing key. Claims: "sub" (user id), "scope"
        (granted scopes, space separated), "iss", "aud", "iat" and "nbf" (int(clock())),
        "exp" (iat + ttl_seconds).
        """
        raise NotImplementedError("08.8: sign the claims with the signing key, kid in the header")

    async def authenticate(
        self, token: str | None, required_scopes: Iterable[str] = ()
    ) -> Principal:
        """The caller, when `token` is good and carries every required scope.

        AuthError(401, detail, {"WWW-Authenticate": "Bearer"}) when:
          - there is no token: "a bearer token is required";
          - its kid is missing or unknown: "invalid token: unknown key id";
          - its key is retired and the overlap is over: "invalid token: key retired";
          - the algorithm is not HS256, the signature does not verify, or "sub", "iss",
            "aud", "iat" or "exp" is missing or wrong: "invalid token: <reason>";
          - clock() >= exp + leeway: "invalid token: expired";
          - clock() < nbf (or iat) - leeway: "invalid token: not yet valid";
          - `users(sub)` returns None: "this token's user no longer exists".
        The effective scopes are the token's scopes that the account is still allowed (an
        admin who lost the role loses "admin" at once). A required scope that is not effective:
        AuthError(403, "this token lacks the scope <scope>", {"WWW-Authenticate":
        'Bearer scope="<required scopes, space separated>"'}). No detail contains a secret.

        Times are judged by `clock()`, not by the system clock that PyJWT would use: decode
        with options verify_exp, verify_nbf and verify_iat set to False, then compare "exp",
        "nbf" and "iat" (whole seconds) with clock() yourself.
        """
        raise NotImplementedError("08.8: kid -> key, decode, times, user, scopes")


def bearer_dependency(
    authority: TokenAuthority, token_url: str
) -> Callable[..., Awaitable[Principal]]:
    """The FastAPI dependency a route uses as `Security(dependency, scopes=[...])`.

    It reads the bearer token with `OAuth2PasswordBearer(tokenUrl=token_url, scopes=SCOPES,
    auto_error=False)` (so the OpenAPI document shows the password flow and its scopes),
    awaits `authority.authenticate(token, security_scopes.scopes)`, and turns an AuthError
    into an `HTTPException` with the same status, detail and headers.
    """
    raise NotImplementedError("08.8: a Security dependency; AuthError -> HTTPException")
