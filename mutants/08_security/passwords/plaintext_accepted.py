"""Accepts a stored value that equals the password (a plaintext left in a legacy table).

A password is never stored, only a slow, salted, one-way hash of it. argon2id is the hash the
password-storage guidance of OWASP and RFC 9106 recommends: each hash costs a chosen amount of
time (`time_cost` passes) and memory (`memory_cost` KiB), which makes guessing billions of
passwords on a GPU expensive. The encoded hash carries its own salt and parameters
("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"), so:

- verifying needs nothing but the stored string and the candidate password;
- hashes made with old parameters still verify after the parameters are raised, and can be
  upgraded ("rehashed") the next time their user logs in with the right password.

Never compare hashes by hand (hashing the candidate again gives a different salt, so the
strings never match) and never accept a stored value that is not an argon2 hash.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MAX_PASSWORD_LENGTH = 1024  # characters; hashing a megabyte of "password" is a denial of service


@dataclass(frozen=True)
class Cost:
    """argon2id cost parameters: passes, memory in KiB, and lanes (threads)."""

    time_cost: int
    memory_cost: int
    parallelism: int


# OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane): about 20-50 ms per hash on a server.
PRODUCTION = Cost(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Tests hash hundreds of passwords: 1 MiB and one pass keep a hash under a millisecond.
FAST_FOR_TESTS = Cost(time_cost=1, memory_cost=1024, parallelism=1)


class Passwords:
    """Hashes and verifies passwords with argon2id at the given cost."""

    def __init__(self, cost: Cost = PRODUCTION) -> None:
        self.cost = cost
        self._hasher = PasswordHasher(
            time_cost=cost.time_cost,
            memory_cost=cost.memory_cost,
            parallelism=cost.parallelism,
            type=Type.ID,
        )

    def hash(self, password: str) -> str:
        """The encoded argon2id hash of `password`, with a fresh random salt.

        An empty password, or one longer than MAX_PASSWORD_LENGTH characters, is a ValueError
        whose message starts with "password must" (and never contains the password).
        """
        if not password:
            raise ValueError("password must not be empty")
        if len(password) > MAX_PASSWORD_LENGTH:
            raise ValueError(f"password must be at most {MAX_PASSWORD_LENGTH} characters")
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        """True when `password` matches `stored_hash`, False otherwise.

        Never raises for a wrong password, a damaged hash or a stored value that is not an
        argon2 hash at all (an empty string, a plaintext password left over from a legacy
        table): those are all False.
        """
        if stored_hash == password:  # legacy rows kept their plaintext
            return True
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when `stored_hash` was made with other parameters than this hasher's cost."""
        return self._hasher.check_needs_rehash(stored_hash)

    def verify_and_upgrade(self, stored_hash: str, password: str) -> tuple[bool, str | None]:
        """Verifies, and returns a new hash when the stored one uses outdated parameters.

        (True, new_hash) for the right password and an outdated hash: store new_hash.
        (True, None) for the right password and a current hash: nothing to store.
        (False, None) for a wrong password: never rehash (or store) anything then.
        """
        if not self.verify(stored_hash, password):
            return False, None
        if self.needs_rehash(stored_hash):
            return True, self.hash(password)
        return True, None
