"""Does not check the audience: a token for another API is accepted.

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

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException
from fastapi.security import OAuth2PasswordBearer, SecurityScopes

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
    secret: str = field(repr=False)
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


def _unauthorized(detail: str) -> AuthError:
    return AuthError(401, detail, {"WWW-Authenticate": "Bearer"})


class PasswordHashing:
    """argon2id hashing and verifying, run in a worker thread (`asyncio.to_thread`)."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self._hasher = hasher
        # verified when the user is unknown, so that failure costs as long as a wrong password
        self._dummy_hash = hasher.hash("no user has this password")

    async def hash(self, password: str) -> str:
        """The encoded argon2id hash of `password` (ValueError for an empty password)."""
        if not password:
            raise ValueError("password must not be empty")
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when `password` matches `stored_hash`.

        `stored_hash` None means "no such user": a dummy hash is verified all the same (so an
        attacker cannot tell unknown users by the time the answer takes) and the result is
        False. A mismatch or a value that is not an argon2 hash is False, never an exception.
        """

        def verify() -> bool:
            try:
                ok = self._hasher.verify(stored_hash or self._dummy_hash, password)
            except (VerificationError, InvalidHashError):
                return False
            return ok and stored_hash is not None

        return await asyncio.to_thread(verify)

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when `stored_hash` was made with other parameters than the hasher's."""
        return self._hasher.check_needs_rehash(stored_hash)


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
        signing = [k for k in keys if k.retired_at is None]
        if len(signing) != 1:
            raise ValueError("exactly one key must be the signing key (retired_at=None)")
        kids = [k.kid for k in keys]
        if len(set(kids)) != len(kids):
            raise ValueError("key ids must be unique")
        for key in keys:
            if not KID_PATTERN.fullmatch(key.kid):
                raise ValueError("kid must be 1 to 64 letters, digits, '-' or '_'")
            if len(key.secret.encode()) < MIN_SECRET_BYTES:
                raise ValueError(f"secret of key {key.kid!r} must be >= {MIN_SECRET_BYTES} bytes")
        if ttl_seconds < 1 or overlap_seconds < 0 or leeway_seconds < 0:
            raise ValueError("ttl_seconds must be >= 1, overlap and leeway >= 0")
        self._signing = signing[0]
        self._keys = {k.kid: k for k in keys}
        self._users = users
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        self.overlap_seconds = overlap_seconds
        self.leeway_seconds = leeway_seconds
        self._clock = clock

    def __repr__(self) -> str:
        return f"TokenAuthority(kids={list(self._keys)}, issuer={self.issuer!r})"

    @staticmethod
    def allowed_scopes(account: Account) -> list[str]:
        """USER_SCOPES, plus ADMIN_SCOPE for an admin, in SCOPES order."""
        return [s for s in SCOPES if s in USER_SCOPES or (s == ADMIN_SCOPE and account.is_admin)]

    def grant(self, account: Account, requested: Iterable[str] = ()) -> list[str]:
        """The scopes a new token gets: the requested ones the account is allowed (all allowed
        ones when nothing is requested), in SCOPES order. Unknown or forbidden scopes are
        silently left out."""
        allowed = self.allowed_scopes(account)
        wanted = set(requested)
        return [s for s in allowed if s in wanted] if wanted else allowed

    def issue(self, account: Account, requested: Iterable[str] = ()) -> IssuedToken:
        """A token for `account` with the granted scopes.

        Header: "alg" HS256 and "kid" of the signing key. Claims: "sub" (user id), "scope"
        (granted scopes, space separated), "iss", "aud", "iat" and "nbf" (int(clock())),
        "exp" (iat + ttl_seconds).
        """
        now = int(self._clock())
        scopes = self.grant(account, requested)
        claims = {
            "sub": account.user_id,
            "scope": " ".join(scopes),
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl_seconds,
        }
        token = jwt.encode(
            claims, self._signing.secret, algorithm=ALGORITHM, headers={"kid": self._signing.kid}
        )
        return IssuedToken(token, self.ttl_seconds, " ".join(scopes))

    def _key_for(self, token: str) -> SigningKey:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise _unauthorized("invalid token: malformed") from None
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise _unauthorized("invalid token: unknown key id")
        if key.retired_at is not None and self._clock() >= key.retired_at + self.overlap_seconds:
            raise _unauthorized("invalid token: key retired")
        return key

    def _claims(self, token: str) -> dict[str, Any]:
        key = self._key_for(token)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.secret,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                # times are checked below against the injected clock, not the system's
                options={
                    "require": ["sub", "iss", "iat", "exp"],
                    "verify_aud": False,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as error:
            raise _unauthorized(f"invalid token: {error}") from None
        now = self._clock()
        times = [claims.get(name) for name in ("exp", "iat", "nbf")]
        if any(t is not None and (isinstance(t, bool) or not isinstance(t, int)) for t in times):
            raise _unauthorized("invalid token: times must be whole seconds")
        exp, iat, nbf = (t or 0 for t in times)  # exp and iat are required: never 0 here
        if now >= exp + self.leeway_seconds:
            raise _unauthorized("invalid token: expired")
        if now < max(iat, nbf) - self.leeway_seconds:
            raise _unauthorized("invalid token: not yet valid")
        return claims

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
        if not token:
            raise _unauthorized("a bearer token is required")
        claims = self._claims(token)
        account = await self._users(str(claims["sub"]))
        if account is None:
            raise _unauthorized("this token's user no longer exists")
        allowed = set(self.allowed_scopes(account))
        effective = frozenset(s for s in str(claims.get("scope", "")).split() if s in allowed)
        required = list(required_scopes)
        for scope in required:
            if scope not in effective:
                challenge = f'Bearer scope="{" ".join(required)}"'
                raise AuthError(
                    403, f"this token lacks the scope {scope}", {"WWW-Authenticate": challenge}
                )
        return Principal(account.user_id, effective)


def bearer_dependency(
    authority: TokenAuthority, token_url: str
) -> Callable[..., Awaitable[Principal]]:
    """The FastAPI dependency a route uses as `Security(dependency, scopes=[...])`.

    It reads the bearer token with `OAuth2PasswordBearer(tokenUrl=token_url, scopes=SCOPES,
    auto_error=False)` (so the OpenAPI document shows the password flow and its scopes),
    awaits `authority.authenticate(token, security_scopes.scopes)`, and turns an AuthError
    into an `HTTPException` with the same status, detail and headers.
    """
    scheme = OAuth2PasswordBearer(tokenUrl=token_url, scopes=SCOPES, auto_error=False)

    async def authenticate(
        security_scopes: SecurityScopes, token: Annotated[str | None, Depends(scheme)]
    ) -> Principal:
        try:
            return await authority.authenticate(token, security_scopes.scopes)
        except AuthError as error:
            raise HTTPException(error.status, error.detail, headers=error.headers) from None

    return authenticate
