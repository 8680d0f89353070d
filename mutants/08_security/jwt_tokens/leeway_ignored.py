"""Ignores the leeway for clock skew.

A JWT is three base64url parts joined by dots: a header ({"alg": "HS256", "typ": "JWT"}), the
claims ({"sub": "42", "exp": 1700000900, ...}) and a signature over the first two. Anyone can
read the claims (they are encoded, not encrypted); only a holder of the secret can make a
signature that verifies. Verifying is where the security is:

- the algorithm is the server's choice, never the token's: `algorithms=["HS256"]`, so a token
  that says "alg": "none" (no signature) or any other algorithm is refused;
- the signature must verify with the secret (a changed claim or a cut signature is refused);
- `exp` (expiry) and `nbf` (not before) bound when the token is good, `iss` says who issued it
  and `aud` who it is for: a token that another service of the same company issued, or that
  was issued for another API, is refused.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import jwt

ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32  # RFC 7518: an HS256 key is at least as long as the hash (256 bits)
REQUIRED_CLAIMS = ["sub", "iss", "aud", "iat", "nbf", "exp"]


class TokenError(Exception):
    """A token was refused; the message says why, in one of the fixed wordings below."""


# (PyJWT exception, our wording). The order matters: subclasses before their parents.
_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.InvalidAlgorithmError, "algorithm not allowed"),
    (jwt.InvalidSignatureError, "invalid signature"),
    (jwt.MissingRequiredClaimError, "missing claim"),
)


def _check_secret(secret: str) -> None:
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"secret must be at least {MIN_SECRET_BYTES} bytes long")


def issue_token(
    secret: str,
    subject: str,
    *,
    issuer: str,
    audience: str,
    scopes: Iterable[str] = (),
    ttl_seconds: int = 900,
    now: int | None = None,
    not_before: int | None = None,
) -> str:
    """A signed HS256 token for `subject`.

    Claims: "sub" (subject), "iss", "aud", "scope" (the scopes joined by single spaces, "" for
    none), "iat" (issued at: `now`, or the current time in whole seconds), "nbf" (`not_before`,
    default `now`) and "exp" (`now + ttl_seconds`), all times in whole seconds since the epoch.

    ValueError (message starts with "secret must") when the secret is shorter than
    MIN_SECRET_BYTES bytes; ValueError when ttl_seconds < 1.
    """
    _check_secret(secret)
    if ttl_seconds < 1:
        raise ValueError("ttl_seconds must be at least 1")
    issued_at = int(time.time()) if now is None else now
    claims = {
        "sub": subject,
        "iss": issuer,
        "aud": audience,
        "scope": " ".join(scopes),
        "iat": issued_at,
        "nbf": issued_at if not_before is None else not_before,
        "exp": issued_at + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(
    token: str,
    secret: str,
    *,
    issuer: str,
    audience: str,
    leeway_seconds: int = 0,
) -> dict[str, Any]:
    """The token's claims, once everything about it checks out; TokenError otherwise.

    Checks, against the current time with `leeway_seconds` of tolerance for clock skew: the
    algorithm is ALGORITHM (and nothing else), the signature, every claim of REQUIRED_CLAIMS
    is present, "exp" is in the future, "nbf" is not, "iss" == issuer and "aud" == audience.

    The TokenError's message is exactly one of: "token expired", "token not yet valid",
    "wrong issuer", "wrong audience", "algorithm not allowed", "invalid signature",
    "missing claim", "malformed token" (anything else: not three parts, bad base64, bad JSON).
    It never contains the secret.
    """
    try:
        return jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=issuer,
            audience=audience,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as error:
        for kind, reason in _REASONS:
            if isinstance(error, kind):
                raise TokenError(reason) from None
        raise TokenError("malformed token") from None
