"""Does not require an expiry, so a token without exp lives forever.

A signing secret must be replaceable without logging everybody out: it may have leaked, or a
policy may say "rotate every 90 days". Each key gets an id (`kid`), written into the header of
every token it signs. Rotating makes a new key the signing key; the previous one is *retired*:
it signs nothing more, but still verifies the tokens it signed for an overlap (at least the
tokens' lifetime), and after that they stop working. The verifier picks the key by the token's
`kid` and only from its own ring: the header is the attacker's text, so it is a lookup key
and never a path, a URL or an algorithm to obey.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32
KID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


class TokenRejected(Exception):
    """A token was refused; the message says why."""


@dataclass(frozen=True)
class SigningKey:
    """One key of the ring. `retired_at` is None for the signing key, else when it retired."""

    kid: str
    secret: str
    retired_at: float | None = None


class KeyRing:
    """The keys a service signs and verifies tokens with.

    `KeyRing("k1", secret, overlap_seconds=3600, clock=time.time)` starts with one signing key.
    `clock()` returns the current time in seconds since the epoch; it decides when a retired
    key's overlap is over. (Tokens' own "exp" and "nbf" are checked by PyJWT against the
    system clock.)
    """

    def __init__(
        self,
        kid: str,
        secret: str,
        *,
        overlap_seconds: float = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if overlap_seconds < 0:
            raise ValueError("overlap_seconds must be >= 0")
        self.overlap_seconds = overlap_seconds
        self._clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._signing = self._add(kid, secret)

    def _add(self, kid: str, secret: str) -> SigningKey:
        if not KID_PATTERN.fullmatch(kid):
            raise ValueError("kid must be 1 to 64 letters, digits, '-' or '_'")
        if kid in self._keys:
            raise ValueError(f"kid {kid!r} is already in the ring: use a new id for a new key")
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"secret must be at least {MIN_SECRET_BYTES} bytes long")
        key = SigningKey(kid, secret)
        self._keys[kid] = key
        return key

    @property
    def signing_kid(self) -> str:
        """The id of the key that signs new tokens."""
        return self._signing.kid

    def kids(self) -> list[str]:
        """The ids of every key still in the ring (signing and retired), oldest first."""
        return list(self._keys)

    def rotate(self, kid: str, secret: str) -> None:
        """Makes a new key (`kid`, `secret`) the signing key and retires the previous one now.

        ValueError for a kid already in the ring (even a retired one) or a kid that does not
        match KID_PATTERN (the message starts with "kid"), or a secret shorter than
        MIN_SECRET_BYTES (the message starts with "secret"). A refused rotation changes
        nothing. The constructor checks its first key the same way.
        """
        new = self._add(kid, secret)
        old = self._signing
        self._keys[old.kid] = SigningKey(old.kid, old.secret, retired_at=self._clock())
        self._signing = new

    def prune(self) -> list[str]:
        """Removes the retired keys whose overlap is over; returns their ids."""
        gone = [key.kid for key in self._keys.values() if self._overlap_over(key)]
        for kid in gone:
            del self._keys[kid]
        return gone

    def _overlap_over(self, key: SigningKey) -> bool:
        return key.retired_at is not None and (
            self._clock() >= key.retired_at + self.overlap_seconds
        )

    def sign(self, claims: dict[str, Any]) -> str:
        """`claims` signed with the signing key (HS256), its id in the header's "kid"."""
        key = self._signing
        return jwt.encode(claims, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid})

    def verify(self, token: str, *, issuer: str, audience: str) -> dict[str, Any]:
        """The claims of a token signed by a key of this ring; TokenRejected otherwise.

        The key is the one whose id is the header's "kid": no "kid", or one not in the ring, is
        refused with "unknown key id"; a retired key whose overlap is over (clock() >=
        retired_at + overlap_seconds) is refused with "key retired", even before prune().
        Then PyJWT checks the signature with that key only (HS256 only: "none" or any other
        algorithm is refused), "exp", "iss" and "aud" (all three required); its errors become
        TokenRejected("invalid token: <what PyJWT said>").
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRejected("invalid token: malformed") from None
        kid = header.get("kid")
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise TokenRejected("unknown key id")
        if self._overlap_over(key):
            raise TokenRejected("key retired")
        try:
            return jwt.decode(
                token,
                key.secret,
                algorithms=[ALGORITHM],
                issuer=issuer,
                audience=audience,
                options={"require": ["iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise TokenRejected(f"invalid token: {error}") from None
