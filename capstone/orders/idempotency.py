"""Idempotency keys that are safe under races (lesson 12).

A request with ``Idempotency-Key: K`` from user U first *claims* (U, K) with one
``INSERT ... ON CONFLICT (user_id, key) DO UPDATE ... WHERE <stale claim> RETURNING``: exactly one
concurrent request gets a row back and does the work; the others read the existing row:

- a different body fingerprint -> 422 (the key was reused for another request);
- status ``done`` -> the stored response, status and body, byte for byte;
- status ``running`` -> wait (poll with a deadline) for it to finish; still running -> 409.

A claim whose request crashed is taken over once ``locked_until`` has passed.

Claiming, finishing and releasing a key are each one statement, so each runs alone, without a
transaction around it (``Database.run_alone``): one round trip to PostgreSQL. The stored
response of a placed order is written by :func:`finish` inside the order's own transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from capstone.orders.models import IdempotencyKey

RUNNING = "running"
DONE = "done"


def fingerprint(body: Any) -> str:
    """SHA-256 of the canonical JSON of the request body (sorted keys, no spaces)."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True)
class Existing:
    """Someone else's claim of the key, as read after ours failed."""

    fingerprint: str
    status: str
    response_status: int | None
    response_body: str | None


def claim(
    connection: Connection, user_id: str, key: str, fp: str, lock_seconds: float
) -> Existing | None:
    """None when this request now owns the key; otherwise what is already there."""
    now = datetime.now(UTC)
    statement = insert(IdempotencyKey).values(
        user_id=user_id,
        key=key,
        fingerprint=fp,
        status=RUNNING,
        locked_until=now + timedelta(seconds=lock_seconds),
    )
    statement = statement.on_conflict_do_update(
        index_elements=[IdempotencyKey.user_id, IdempotencyKey.key],
        set_={"locked_until": statement.excluded.locked_until},
        where=(IdempotencyKey.status == RUNNING)
        & (IdempotencyKey.locked_until < now)
        & (IdempotencyKey.fingerprint == statement.excluded.fingerprint),
    )
    if connection.scalar(statement.returning(IdempotencyKey.key)) is not None:
        return None
    row = connection.execute(
        select(
            IdempotencyKey.fingerprint,
            IdempotencyKey.status,
            IdempotencyKey.response_status,
            IdempotencyKey.response_body,
        ).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    ).one()
    return Existing(*row)


def finish(
    connection: Connection | Session, user_id: str, key: str, status: int, body: str
) -> None:
    """Stores the final response; later requests with the key get exactly this."""
    connection.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
        .values(status=DONE, response_status=status, response_body=body)
    )


def release(connection: Connection, user_id: str, key: str) -> None:
    """Gives the key back after a failure worth retrying (the client may repeat the request)."""
    connection.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.key == key,
            IdempotencyKey.status == RUNNING,
        )
    )
