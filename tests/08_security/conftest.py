"""Shared helpers for lesson 08: a cheap argon2 hasher, a fake clock, and leak detectors.

Fixtures hand out tools; exercise code only ever runs in the test bodies. Every test of this
lesson also runs with a log watcher: a log record (at any level, from any logger) that carries
a password hash or one of the test module's secrets fails the test.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterable

import pytest

# module-level constants of a test module whose values are secrets or passwords
_SECRET_WORDS = ("SECRET", "PASSWORD", "ATTACKER", "OLD", "NEW", "K1", "K2")


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            self.lines.append(repr(record.exc_info[1]))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fails a passing test whose log records carry a password hash or a secret."""
    root = logging.getLogger()
    recorder, level = _Recorder(), root.level
    root.addHandler(recorder)
    root.setLevel(logging.DEBUG)
    try:
        outcome = yield  # a failing test raises here, and its own failure is what counts
    finally:
        root.removeHandler(recorder)
        root.setLevel(level)
    module = getattr(item, "module", None)
    secrets = [
        value
        for name, value in (vars(module) if module is not None else {}).items()
        if name.isupper()
        and isinstance(value, str)
        and len(value) >= 8
        and any(word in name for word in _SECRET_WORDS)
    ]
    for line in recorder.lines:
        assert "$argon2" not in line, f"a password hash reached the logs: {line[:200]!r}"
        for secret in secrets:
            assert secret not in line, f"a secret reached the logs: {line[:200]!r}"
    return outcome


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
