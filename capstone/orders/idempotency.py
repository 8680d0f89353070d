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

Every order runs these statements, so each is built once, at import, with named parameters
(``bindparam``) and executed with their values: building a statement per call, with the values
inside it, made SQLAlchemy work out the statement's cache key again every time, and cost more
CPU than the database's round trip.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, delete, select, update
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


_claim = insert(IdempotencyKey).values(
    user_id=bindparam("the_user"),
    key=bindparam("the_key"),
    fingerprint=bindparam("the_fingerprint"),
    status=RUNNING,
    locked_until=bindparam("lock_until"),
)
# a new key is inserted; an existing one is taken over only when its claim went stale (the
# request that made it crashed) and the body is the same; any other conflict returns no row
CLAIM = _claim.on_conflict_do_update(
    index_elements=[IdempotencyKey.user_id, IdempotencyKey.key],
    set_={"locked_until": _claim.excluded.locked_until},
    where=(IdempotencyKey.status == RUNNING)
    & (IdempotencyKey.locked_until < bindparam("now"))
    & (IdempotencyKey.fingerprint == _claim.excluded.fingerprint),
).returning(IdempotencyKey.key)

_THIS_KEY = (
    IdempotencyKey.user_id == bindparam("the_user"),
    IdempotencyKey.key == bindparam("the_key"),
)
EXISTING = select(
    IdempotencyKey.fingerprint,
    IdempotencyKey.status,
    IdempotencyKey.response_status,
    IdempotencyKey.response_body,
).where(*_THIS_KEY)
FINISH = (
    update(IdempotencyKey)
    .where(*_THIS_KEY)
    .values(
        status=DONE, response_status=bindparam("the_status"), response_body=bindparam("the_body")
    )
)
RELEASE = delete(IdempotencyKey).where(*_THIS_KEY, IdempotencyKey.status == RUNNING)


def claim(
    connection: Connection, user_id: str, key: str, fp: str, lock_seconds: float
) -> Existing | None:
    """None when this request now owns the key; otherwise what is already there."""
    now = datetime.now(UTC)
    ours = connection.scalar(
        CLAIM,
        {
            "the_user": user_id,
            "the_key": key,
            "the_fingerprint": fp,
            "lock_until": now + timedelta(seconds=lock_seconds),
            "now": now,
        },
    )
    if ours is not None:
        return None
    row = connection.execute(EXISTING, {"the_user": user_id, "the_key": key}).one()
    return Existing(*row)


def finish(
    connection: Connection | Session, user_id: str, key: str, status: int, body: str
) -> None:
    """Stores the final response; later requests with the key get exactly this."""
    connection.execute(
        FINISH, {"the_user": user_id, "the_key": key, "the_status": status, "the_body": body}
    )


def release(connection: Connection, user_id: str, key: str) -> None:
    """Gives the key back after a failure worth retrying (the client may repeat the request)."""
    connection.execute(RELEASE, {"the_user": user_id, "the_key": key})
