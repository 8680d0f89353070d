"""08.3 Signing keys with ids, and rotation with an overlap.

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

import jwt  # noqa: F401 - you will need it

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
        raise NotImplementedError("08.3: validate and keep the first key as the signing key")

    @property
    def signing_kid(self) -> str:
        """The id of the key that signs new tokens."""
        raise NotImplementedError("08.3: the signing key's id")

    def kids(self) -> list[str]:
        """The ids of every key still in the ring (signing and retired), oldest first."""
        raise NotImplementedError("08.3: the ids of the keys in the ring")

    def rotate(self, kid: str, secret: str) -> None:
        """Makes a new key (`kid`, `secret`) the signing key and retires the previous one now.

        ValueError for a kid already in the ring (even a retired one) or a kid that does not
        match KID_PATTERN (the message starts with "kid"), or a secret shorter than
        MIN_SECRET_BYTES (the message starts with "secret"). A refused rotation changes
        nothing. The constructor checks its first key the same way.
        """
        raise NotImplementedError("08.3: validate, retire the old key now, sign with the new one")

    def prune(self) -> list[str]:
        """Removes the retired keys whose overlap is over; returns their ids."""
        raise NotImplementedError("08.3: drop the retired keys whose overlap is over")

    def sign(self, claims: dict[str, Any]) -> str:
        """`claims` signed with the signing key (HS256), its id in the header's "kid"."""
        raise NotImplementedError("08.3: jwt.encode with the signing key and its kid in the header")

    def verify(self, token: str, *, issuer: str, audience: str) -> dict[str, Any]:
        """The claims of a token signed by a key of this ring; TokenRejected otherwise.

        The key is the one whose id is the header's "kid": no "kid", or one not in the ring, is
        refused with "unknown key id"; a retired key whose overlap is over (clock() >=
        retired_at + overlap_seconds) is refused with "key retired", even before prune().
        Then PyJWT checks the signature with that key only (HS256 only: "none" or any other
        algorithm is refused), "exp", "iss" and "aud" (all three required); its errors become
        TokenRejected("invalid token: <what PyJWT said>").
        """
        raise NotImplementedError("08.3: kid -> key, refuse retired, jwt.decode with it")
