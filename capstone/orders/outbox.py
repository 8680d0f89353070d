"""The transactional outbox and its relay (lesson 07).

An order and its ``order.placed`` event are written in one transaction, so there is never an
order without its event nor an event without its order. The relay reads unsent rows in id order,
``XADD``s each to the stream, then marks them sent. A crash between the two publishes a row
again: delivery is at least once, and the notifier ignores duplicates by event id.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from capstone.common.db import Database
from capstone.common.events import Event
from capstone.common.logging import get_logger
from capstone.orders.models import OutboxMessage

RELAYED = Counter("outbox_relayed_total", "outbox rows published to the stream")
BATCH = 100
STREAM_MAXLEN = 100_000
log = get_logger("capstone.orders.outbox")


def add_event(session: Session, event: Event) -> None:
    """Adds the event to the outbox inside the caller's transaction."""
    session.add(
        OutboxMessage(
            event_id=str(event.event_id), type=event.type, payload=event.model_dump(mode="json")
        )
    )


def _unsent(session: Session) -> list[tuple[int, dict[str, Any]]]:
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.payload)
        .where(OutboxMessage.sent_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(BATCH)
    )
    return [(row.id, row.payload) for row in rows]


def _mark_sent(session: Session, ids: list[int]) -> None:
    session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(sent_at=datetime.now(UTC))
    )


class OutboxRelay:
    """Publishes the outbox to the stream: woken by each new order, and polling as a safety net."""

    def __init__(self, db: Database, redis: Any, stream: str, poll_seconds: float) -> None:
        self.db = db
        self.redis = redis
        self.stream = stream
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Called after an order commits: publish now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Asks :meth:`run` to publish what is left and return (lesson 12: graceful shutdown)."""
        self._stopping = True
        self._wake.set()

    async def relay_once(self) -> int:
        """Publishes one batch of unsent rows in id order, then marks them sent."""
        rows = await self.db.run(_unsent)
        if not rows:
            return 0
        for row_id, payload in rows:
            event = Event.model_validate(payload)
            await self.redis.xadd(
                self.stream, event.to_fields(), maxlen=STREAM_MAXLEN, approximate=True
            )
            log.info(
                "event published",
                event_id=str(event.event_id),
                outbox_id=row_id,
                request_id=event.request_id,
            )
        ids = [row_id for row_id, _ in rows]
        await self.db.run(lambda session: _mark_sent(session, ids))
        RELAYED.inc(len(rows))
        return len(rows)

    async def run(self) -> None:
        """Relays until :meth:`stop`; then one last pass publishes the rows of the orders that
        were placed while the server drained its in-flight requests."""
        while not self._stopping:
            self._wake.clear()  # before reading: a wake during the read is not lost
            if await self._relay_logged() == BATCH:
                continue  # more are waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
        while await self._relay_logged() == BATCH:
            pass

    async def _relay_logged(self) -> int:
        try:
            return await self.relay_once()
        except Exception as error:  # the database or Redis is away: retry at the next poll
            log.warning("relay failed", error=repr(error))
            return 0
