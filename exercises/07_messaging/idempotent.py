"""07.5 — an idempotent consumer: each message's effect exactly once.

Brokers deliver at least once, so every consumer sees duplicates: after a crash before the
ack, a redelivery, a relay that publishes twice. The consumer makes the *effect* happen once:
it records the message id in PostgreSQL **in the same transaction** as the effect. Either both
commit or neither does:

- a duplicate finds its id already recorded and does nothing;
- an effect that fails rolls back its id too, so the retry runs it again;
- two copies processed at the same moment collide on the primary key: the second waits for
  the first transaction, then sees the id and does nothing.

``conn`` is a psycopg 3 connection in autocommit mode; ``with conn.transaction():`` opens a
transaction that commits at the end of the block and rolls back if an exception leaves it.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS processed_messages (
    consumer text NOT NULL,
    message_id text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
)
"""


def create_schema(conn: psycopg.Connection) -> None:
    """Creates the ``processed_messages`` table; running it twice is fine."""
    raise NotImplementedError("07.5: execute SCHEMA_SQL")


def process_once(
    conn: psycopg.Connection,
    consumer: str,
    message_id: str,
    effect: Callable[[psycopg.Connection], None],
) -> bool:
    """Runs ``effect(conn)`` unless ``consumer`` has already processed ``message_id``.

    Returns True when the effect ran (and committed), False for a duplicate (nothing done).
    The id is recorded in ``processed_messages`` in the same transaction as the effect: if
    the effect raises, nothing is recorded, nothing it wrote stays, and the exception
    propagates, so the message can be retried. Two calls for the same message at the same
    moment (two threads, two connections) must run the effect once, and neither may fail.
    Each consumer has its own record: the same message id is new to another consumer.
    ValueError (naming ``message_id``) for an empty id.
    """
    raise NotImplementedError("07.5: one transaction: insert the id (ON CONFLICT), then effect")


def already_processed(conn: psycopg.Connection, consumer: str, message_id: str) -> bool:
    """Whether ``consumer`` has processed ``message_id``."""
    raise NotImplementedError("07.5: SELECT from processed_messages")
