"""The notifier's consumer group on the orders stream (lesson 07: Redis Streams).

- ``XGROUP CREATE ... MKSTREAM`` once (BUSYGROUP means it exists);
- on start, re-read this consumer's own pending entries (``XREADGROUP ... 0``): what it had read
  but not acknowledged when it died is processed now, so nothing is lost;
- then read new entries (``>``), and every few seconds ``XAUTOCLAIM`` entries left pending too
  long by any consumer (a dead one, or this one after an error);
- each entry: one ``INSERT ... ON CONFLICT DO NOTHING`` (unique event id and order id), then
  ``XACK``; the entries of one read share a transaction and one ``XACK``. A duplicate inserts
  nothing and is acknowledged all the same: exactly one notification per order, with
  at-least-once delivery.

The acknowledgement is the notifier's receipt: the orders relay republishes an event whose
entry has vanished from the stream before the group acknowledged it (see orders/outbox.py).
Notifications are written through a :class:`NotificationStore`, so the rules are unit-tested.

Tracing (when on): each event is handled in a CONSUMER span that continues the ``traceparent``
the relay wrote into the entry, so the notification joins the trace of the order's request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, Protocol

from opentelemetry.trace import Span, SpanKind
from prometheus_client import Counter
from redis.exceptions import ResponseError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from capstone.common import tracing
from capstone.common.db import Database
from capstone.common.events import ORDER_PLACED, Event
from capstone.common.logging import bind_request_id, get_logger
from capstone.contracts.events import OrderPlaced
from capstone.notifier.models import Notification
from capstone.notifier.settings import NotifierSettings

HANDLED = Counter("stream_messages_total", "stream entries handled", ["outcome"])
log = get_logger("capstone.notifier.consumer")


def _store(session: Session, event_id: str, placed: OrderPlaced) -> bool:
    """One notification per order; False when it already exists (a duplicate delivery)."""
    count = sum(item.quantity for item in placed.items)
    inserted = session.scalar(
        insert(Notification)
        .values(
            event_id=event_id,
            order_id=placed.order_id,
            user_id=placed.user_id,
            message=f"Your order {placed.order_id} is placed: {count} item(s).",
        )
        .on_conflict_do_nothing()
        .returning(Notification.id)
    )
    return inserted is not None


class NotificationStore(Protocol):
    async def add(self, event_id: str, placed: OrderPlaced) -> bool:
        """Stores the order's notification; False when it exists already (a duplicate)."""
        ...

    async def add_many(self, notes: list[tuple[str, OrderPlaced]]) -> list[bool]:
        """:meth:`add` for each ``(event_id, placed)`` in order, all in one transaction."""
        ...


class SqlNotificationStore:
    """:class:`NotificationStore` in the notifier's database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, event_id: str, placed: OrderPlaced) -> bool:
        return await self.db.run(lambda session: _store(session, event_id, placed))

    async def add_many(self, notes: list[tuple[str, OrderPlaced]]) -> list[bool]:
        return await self.db.run(lambda session: [_store(session, *note) for note in notes])


class Consumer:
    def __init__(self, store: NotificationStore, redis: Any, settings: NotifierSettings) -> None:
        self.store = store
        self.redis = redis
        self.s = settings
        self._stopping = asyncio.Event()

    @property
    def block_seconds(self) -> float:
        return self.s.block_ms / 1000

    def stop(self) -> None:
        """Asks the loop to end after the current read: no entry is left half-handled."""
        self._stopping.set()

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(
                self.s.events_stream, self.s.consumer_group, id="0", mkstream=True
            )
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def handle(self, entry_id: Any, fields: dict[Any, Any] | None) -> None:
        """Stores the entry's notification (at most once), then acknowledges it."""
        outcome = await self._process(entry_id, fields)
        await self.redis.xack(self.s.events_stream, self.s.consumer_group, entry_id)
        HANDLED.labels(outcome).inc()

    async def handle_batch(self, entries: list[tuple[Any, dict[Any, Any] | None]]) -> None:
        """:meth:`handle` for every entry of one read, with one transaction and one ``XACK``
        for all of them: under load a read returns many entries, and a transaction and an
        acknowledgement each (two round trips and a thread hop) made the notifications lag.
        If the transaction fails, none is acknowledged: they stay pending, nothing is lost."""
        if not entries:
            return
        outcomes: dict[int, str] = {}
        notes: list[tuple[int, Event, OrderPlaced, Span | None]] = []
        for n, (entry_id, fields) in enumerate(entries):
            read = self._read_entry(entry_id, fields)
            if isinstance(read, str):
                outcomes[n] = read
            else:
                notes.append((n, *read, self._consume_span(entry_id, fields, read[1])))
        created = await self.store.add_many([(str(e.event_id), p) for _, e, p, _ in notes])
        for (n, event, placed, span), stored in zip(notes, created, strict=True):
            outcomes[n] = "stored" if stored else "duplicate"
            bind_request_id(event.request_id)
            with tracing.ending(span, **{"shop.outcome": outcomes[n]}):
                log.info(
                    "notification",
                    outcome=outcomes[n],
                    event_id=str(event.event_id),
                    order_id=placed.order_id,
                )
        ids = [entry_id for entry_id, _ in entries]
        await self.redis.xack(self.s.events_stream, self.s.consumer_group, *ids)
        for outcome in outcomes.values():
            HANDLED.labels(outcome).inc()

    def _consume_span(self, entry_id: Any, fields: Any, placed: OrderPlaced) -> Span | None:
        """The CONSUMER span of one entry, a child of the relay's span that wrote it."""
        return tracing.start_span(
            f"process {self.s.events_stream}",
            SpanKind.CONSUMER,
            fields,
            **{
                "messaging.system": "redis",
                "messaging.operation.type": "process",
                "messaging.destination.name": self.s.events_stream,
                "messaging.consumer.group.name": self.s.consumer_group,
                "messaging.message.id": entry_id.decode()
                if isinstance(entry_id, bytes)
                else str(entry_id),
                "shop.order_id": placed.order_id,
            },
        )

    def _read_entry(
        self, entry_id: Any, fields: dict[Any, Any] | None
    ) -> str | tuple[Event, OrderPlaced]:
        """The entry's event and order, or the outcome of an entry with nothing to store."""
        if not fields:  # None: the entry was trimmed from the stream while pending
            return "ignored"
        try:
            event = Event.from_fields(fields)
            if event.type != ORDER_PLACED:
                return "ignored"
            return event, OrderPlaced.model_validate(event.payload)
        except ValueError as error:  # a poison message can never succeed: drop it
            log.error("unreadable event", entry_id=str(entry_id), error=str(error)[:300])
            return "invalid"

    async def _process(self, entry_id: Any, fields: dict[Any, Any] | None) -> str:
        read = self._read_entry(entry_id, fields)
        if isinstance(read, str):
            return read
        event, placed = read
        bind_request_id(event.request_id)
        event_id = str(event.event_id)
        span = self._consume_span(entry_id, fields, placed)
        with tracing.ending(span):
            created = await self.store.add(event_id, placed)
            outcome = "stored" if created else "duplicate"
            log.info("notification", outcome=outcome, event_id=event_id, order_id=placed.order_id)
        return outcome

    async def _read(self, from_id: str) -> list[tuple[Any, Any]]:
        reply = await self.redis.xreadgroup(
            self.s.consumer_group,
            self.s.consumer_name,
            {self.s.events_stream: from_id},
            count=self.s.batch,
            block=None if from_id == "0" else self.s.block_ms,
        )
        return [entry for _, entries in reply or [] for entry in entries]

    async def drain_own_pending(self) -> int:
        """Entries delivered to this consumer before and never acknowledged."""
        done = 0
        while entries := await self._read("0"):
            await self.handle_batch(entries)
            done += len(entries)
        if done:
            log.info("re-processed pending entries", count=done)
        return done

    async def claim_stale(self) -> int:
        start, done = "0-0", 0
        while True:
            reply = await self.redis.xautoclaim(
                self.s.events_stream,
                self.s.consumer_group,
                self.s.consumer_name,
                min_idle_time=self.s.claim_idle_ms,
                start_id=start,
                count=self.s.batch,
            )
            start, entries = reply[0], reply[1]
            await self.handle_batch(list(entries))
            done += len(entries)
            if start in (b"0-0", "0-0"):
                return done

    async def run(self) -> None:
        """Until :meth:`stop`: join the group and re-read this consumer's own pending entries,
        then read new ones, claiming stale entries every few seconds. After any error (Redis or
        the database away, the stream deleted) it waits a second and starts again by joining,
        so a notifier started before Redis recovers by itself."""
        joined = False
        next_claim = 0.0
        while not self._stopping.is_set():
            try:
                if not joined:
                    await self.ensure_group()
                    await self.drain_own_pending()  # also what failed before the error
                    joined = True
                if time.monotonic() >= next_claim:
                    await self.claim_stale()
                    next_claim = time.monotonic() + self.s.claim_every_seconds
                await self.handle_batch(await self._read(">"))
            except Exception as error:  # unacknowledged entries stay pending: nothing is lost
                log.warning("consumer error", error=repr(error))
                joined = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), 1.0)
