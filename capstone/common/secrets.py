"""Secrets the shop refuses to run with (lessons 01 and 08: settings validated at start).

A secret is good only if nobody else knows it: missing, shorter than 32 bytes, or one of the
values printed in this repository's settings, compose file, lessons and docs (anyone who can read
them could sign an admin token), and the service does not start. ``journey capstone up`` makes
random ones per installation (:func:`new_secret`), the test harness makes its own per run.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from pydantic import AfterValidator, SecretStr

MIN_SECRET_BYTES = 32
# Every secret value this repository has ever printed. Add to it, never remove from it.
PUBLISHED_SECRETS = frozenset(
    {
        "dev-only-secret-change-me-0123456789abcdef",  # the gateway's old default
        "dev-only-insecure-jwt-secret-change-me",  # compose's old default
        "please-change-this-secret-in-production-0123",
        "Z3x9-a-long-random-secret-from-the-vault-7Qp",
        "from-a-dot-env-file-0123456789abcdef",
        "from-a-mounted-secret-file-0123456789",
        "changeme",
        "change-me",
        "secret",
        "password",
    }
)


def check_secret(value: SecretStr) -> SecretStr:
    """Refuses a short or published secret; the message never contains the value."""
    raw = value.get_secret_value()
    if len(raw.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"must be at least {MIN_SECRET_BYTES} bytes long")
    if raw in PUBLISHED_SECRETS or raw.lower().startswith("dev-only"):
        raise ValueError("is a published value: generate a random one")
    return value


# a required setting (no default: missing is an error too) checked by check_secret
Secret = Annotated[SecretStr, AfterValidator(check_secret)]


def new_secret() -> str:
    """A fresh random secret: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(MIN_SECRET_BYTES)
