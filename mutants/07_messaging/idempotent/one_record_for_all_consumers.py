"""Deduplicates by message id alone: a second consumer never gets its own copy of the effect.

A kept wrong solution: the tests of this exercise must catch it.

Brokers deliver at least once, so every consumer sees duplicates: after a crash before the
ack, a redelivery, a relay that publishes twice. The consumer makes the *effect* happen once:
it records the message id in PostgreSQL **in the same transaction** as the effect. Either both
commit or neither does:

- a duplicate finds its id already recorded and does nothing;
- an effect that fails rolls back its id too, so the retry runs it again;
- two copies processed at the same moment collide on the primary key: the second waits for
  the first transaction, then sees the id and does nothing.
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
    """Creates the ``processed_messages`` table (idempotent)."""
    conn.execute(SCHEMA_SQL)


def process_once(
    conn: psycopg.Connection,
    consumer: str,
    message_id: str,
    effect: Callable[[psycopg.Connection], None],
) -> bool:
    """Runs ``effect(conn)`` unless ``consumer`` has already processed ``message_id``.

    Returns True when the effect ran (and committed), False for a duplicate. If the effect
    raises, nothing is recorded and the exception propagates: the message can be retried.
    """
    if not message_id:
        raise ValueError("message_id must not be empty: it is what makes duplicates visible")
    with conn.transaction():
        first = conn.execute(
            "INSERT INTO processed_messages (consumer, message_id) VALUES (%s, %s) "
            "ON CONFLICT DO NOTHING RETURNING message_id",
            ("any", message_id),
        ).fetchone()
        if first is None:
            return False
        effect(conn)
    return True


def already_processed(conn: psycopg.Connection, consumer: str, message_id: str) -> bool:
    """Whether ``consumer`` has processed ``message_id``."""
    row = conn.execute(
        "SELECT 1 FROM processed_messages WHERE consumer = %s AND message_id = %s",
        (consumer, message_id),
    ).fetchone()
    return row is not None
