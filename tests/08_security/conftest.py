"""Shared helpers for lesson 08: a cheap argon2 hasher, a fake clock, and a leak detector.

Fixtures hand out tools; exercise code only ever runs in the test bodies.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

# Tests hash many passwords: one pass over 1 MiB keeps a hash near a millisecond. Production
# uses far more (the lesson explains why); the parameters live in each hash, so both verify.
CHEAP_ARGON2 = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
SECRET = "test-signing-secret-0123456789-abcdefghijklmnop"
OTHER_SECRET = "an-attacker-s-own-secret-0123456789-qrstuvwxyz"


class FakeClock:
    """A clock the test moves by hand: `clock()` is the time, `clock.advance(s)` moves it."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def assert_no_leak(texts: Iterable[str], secrets: Iterable[str], where: str) -> None:
    """Fails when any secret (a signing secret, a password, a password hash) is in any text."""
    texts = list(texts)
    for secret in secrets:
        for text in texts:
            assert secret not in text, f"a secret leaked into {where}: {text[:200]!r}"


@pytest.fixture
def cheap_hasher():
    from argon2 import PasswordHasher

    return PasswordHasher(**CHEAP_ARGON2)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def no_leak():
    """`no_leak(texts, secrets, where)`: fails when a secret shows up in any of the texts."""
    return assert_no_leak
