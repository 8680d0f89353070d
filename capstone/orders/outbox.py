"""The transactional outbox and its relay (lesson 07).

An order and its ``order.placed`` event are written in one transaction, so there is never an
order without its event nor an event without its order. A row then goes through three states:

1. **unsent** (``sent_at`` is null): the relay ``XADD``s it to the stream, in id order, and
   stores the entry id it got (``stream_id``) with ``sent_at``;
2. **published, not yet acknowledged**: the entry is in the stream, waiting for the notifier's
   consumer group. While it waits, the relay checks it every poll: once the group has read it
   and acknowledged it (``XACK``, which the notifier sends after storing the notification), the
   row is **acknowledged** (``acked_at``) and the relay forgets it. If the entry has vanished
   from the stream without being acknowledged (Redis restarted without persistence, or the
   stream was deleted), the relay publishes the row again.
3. **acknowledged**: done.

So an event is lost only if PostgreSQL loses it; Redis may lose the stream at any time. A crash
between ``XADD`` and the update, or a republish, delivers an event twice: delivery is at least
once, and the notifier ignores duplicates by event id.

The stream is never trimmed past what the group has acknowledged. Instead of a blind
``MAXLEN`` that would drop unread entries during a long notifier outage, the relay trims only
acknowledged entries (``XTRIM MINID``), and when the stream still holds ``stream_max_entries``
entries (the notifier is far behind, or was never started) it **stops publishing**: the rows
wait in the outbox, the gauge ``outbox_publishing_paused`` is 1 and a warning is logged, and
publishing resumes by itself once the notifier catches up.

Tracing (when on): a row keeps the trace context of the request that placed its order, and each
``XADD`` is a PRODUCER span that continues it and writes its own ``traceparent`` into the entry,
next to the event, where the notifier's CONSUMER span picks it up (capstone.common.tracing).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry.trace import Span, SpanKind
from prometheus_client import Counter, Gauge
from redis.exceptions import ResponseError
from sqlalchemy import BigInteger, func, insert, select, update
from sqlalchemy.orm import Session

from capstone.common import tracing
from capstone.common.db import Database
from capstone.common.events import Event
from capstone.common.logging import get_logger
from capstone.orders.models import OutboxMessage, outbox_table

RELAYED = Counter("outbox_relayed_total", "outbox rows published to the stream")
REPUBLISHED = Counter(
    "outbox_republished_total", "events published again: their entry vanished unacknowledged"
)
ACKNOWLEDGED = Counter("outbox_acknowledged_total", "events the consumer group acknowledged")
PAUSED = Gauge("outbox_publishing_paused", "1 while the stream is full of unread entries")
STREAM_ENTRIES = Gauge("outbox_stream_entries", "entries in the stream at the last check")
BATCH = 100
CHECK_BATCH = 1000
log = get_logger("capstone.orders.outbox")

EntryId = tuple[int, int]


def add_event(session: Session, event: Event) -> None:
    """Adds the event to the outbox inside the caller's transaction."""
    session.execute(
        insert(outbox_table).values(
            event_id=str(event.event_id),
            type=event.type,
            payload=event.model_dump(mode="json"),
            trace_context=tracing.current_carrier(),
        )
    )


def parse_entry_id(raw: bytes | str) -> EntryId:
    """``b"1700000000000-3"`` -> ``(1700000000000, 3)``: stream ids compare as number pairs."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


@dataclass(frozen=True)
class GroupProgress:
    """How far the consumer group is: read up to ``last_delivered``, and of what it has read,
    everything before ``oldest_pending`` is acknowledged (None: nothing is pending)."""

    last_delivered: EntryId
    oldest_pending: EntryId | None

    def acknowledged(self, entry: EntryId) -> bool:
        return entry <= self.last_delivered and (
            self.oldest_pending is None or entry < self.oldest_pending
        )

    def trim_below(self) -> EntryId:
        """Every entry before this one is acknowledged, and may go."""
        if self.oldest_pending is not None:
            return self.oldest_pending
        ms, seq = self.last_delivered
        return ms, seq + 1


@dataclass(frozen=True)
class Outgoing:
    """A row to publish: its event, and the trace context it was written in (or None)."""

    row_id: int
    payload: dict[str, Any]
    trace_context: dict[str, str] | None


@dataclass(frozen=True)
class Waiting(Outgoing):
    """A published row whose entry the group has not acknowledged yet."""

    stream_id: EntryId | None


def _unsent(session: Session, limit: int) -> list[Outgoing]:
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.payload, OutboxMessage.trace_context)
        .where(OutboxMessage.sent_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return [Outgoing(row.id, row.payload, row.trace_context) for row in rows]


def _waiting(session: Session, published_before: datetime) -> list[Waiting]:
    rows = session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.stream_id,
            OutboxMessage.payload,
            OutboxMessage.trace_context,
        )
        .where(
            OutboxMessage.sent_at.is_not(None),
            OutboxMessage.acked_at.is_(None),
            OutboxMessage.sent_at < published_before,
        )
        .order_by(OutboxMessage.id)
        .limit(CHECK_BATCH)
    )
    return [
        Waiting(
            row.id,
            row.payload,
            row.trace_context,
            stream_id=parse_entry_id(row.stream_id) if row.stream_id else None,
        )
        for row in rows
    ]


def _oldest_waiting_entry(session: Session) -> EntryId | None:
    """The smallest entry of the unacknowledged rows: the stream keeps it, and all after it.

    The smallest *entry*, not the oldest row's: rows commit out of id order under load, and a
    republished row gets a new entry, so the oldest row may have a later entry than others."""
    ms = func.split_part(OutboxMessage.stream_id, "-", 1).cast(BigInteger)
    seq = func.split_part(OutboxMessage.stream_id, "-", 2).cast(BigInteger)
    raw = session.scalar(
        select(OutboxMessage.stream_id)
        .where(
            OutboxMessage.sent_at.is_not(None),
            OutboxMessage.acked_at.is_(None),
            OutboxMessage.stream_id.is_not(None),
        )
        .order_by(ms, seq)
        .limit(1)
    )
    return parse_entry_id(raw) if raw else None


def _mark_sent(session: Session, sent: list[tuple[int, str]]) -> None:
    now = datetime.now(UTC)
    session.execute(
        update(OutboxMessage),
        [{"id": row_id, "stream_id": entry, "sent_at": now} for row_id, entry in sent],
    )


def _mark_acknowledged(session: Session, ids: list[int]) -> None:
    session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(acked_at=datetime.now(UTC))
    )


class OutboxRelay:
    """Publishes the outbox to the stream: woken by each new order, and polling as a safety net.
    Each poll it also checks what the group has acknowledged (see the module's docstring)."""

    def __init__(
        self,
        db: Database,
        redis: Any,
        stream: str,
        poll_seconds: float,
        *,
        group: str = "notifier",
        max_entries: int = 100_000,
        check_after_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.redis = redis
        self.stream = stream
        self.poll_seconds = poll_seconds
        self.group = group
        self.max_entries = max_entries
        self.check_after = timedelta(seconds=check_after_seconds)
        self._room = 0  # entries the stream may still take before the next check
        self._paused = False
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Called after an order commits: publish now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Asks :meth:`run` to publish what is left and return (lesson 12: graceful shutdown)."""
        self._stopping = True
        self._wake.set()

    @property
    def paused(self) -> bool:
        """True while the stream is full of entries the group has not acknowledged."""
        return self._paused

    # -- publishing ---------------------------------------------------------------------------

    async def relay_once(self) -> int:
        """Publishes one batch of unsent rows in id order, as far as the stream has room."""
        if self._room <= 0:
            await self.check()
        if self._room <= 0:
            return 0
        rows = await self.db.run(lambda session: _unsent(session, min(BATCH, self._room)))
        if not rows:
            return 0
        entries = await self._publish(rows)
        sent = [(row.row_id, entry) for row, entry in zip(rows, entries, strict=True)]
        await self.db.run(lambda session: _mark_sent(session, sent))
        self._room -= len(rows)
        RELAYED.inc(len(rows))
        return len(rows)

    async def _publish(self, rows: Sequence[Outgoing]) -> list[str]:
        """``XADD``s the events in order (one round trip); returns their entry ids. No
        ``MAXLEN``: only :meth:`check` trims, and only what the group has acknowledged."""
        spans = [self._publish_span(row) for row in rows]  # all None when tracing is off
        async with self.redis.pipeline(transaction=False) as pipe:
            for row, span in zip(rows, spans, strict=True):
                fields = Event.model_validate(row.payload).to_fields()
                pipe.xadd(self.stream, fields | tracing.carrier_of(span))
            entries = [_text(entry) for entry in await pipe.execute()]
        for row, span, entry in zip(rows, spans, entries, strict=True):
            with tracing.ending(span, **{"messaging.message.id": entry}):
                log.info(
                    "event published",
                    event_id=row.payload.get("event_id"),
                    entry_id=entry,
                    request_id=row.payload.get("request_id"),
                )
        return entries

    def _publish_span(self, row: Outgoing) -> Span | None:
        """The PRODUCER span of one ``XADD``, in the trace of the request that wrote the row."""
        return tracing.start_span(
            f"publish {self.stream}",
            SpanKind.PRODUCER,
            row.trace_context,
            **{
                "messaging.system": "redis",
                "messaging.operation.type": "send",
                "messaging.destination.name": self.stream,
                "shop.event_id": str(row.payload.get("event_id")),
            },
        )

    # -- acknowledgements, republishing, trimming ---------------------------------------------

    async def check(self) -> None:
        """Acknowledged rows are done; rows whose entry vanished are published again; acknowledged
        entries are trimmed; then how much room the stream has left."""
        progress = await self._group_progress()
        await self._settle_waiting(progress)
        if progress is not None:
            oldest = await self.db.run(_oldest_waiting_entry)
            keep_from = progress.trim_below()
            if oldest is not None:
                keep_from = min(keep_from, oldest)
            ms, seq = keep_from
            # exact, not "~": an approximate trim frees whole nodes only, and would leave the
            # acknowledged entries counting against max_entries
            await self.redis.xtrim(self.stream, minid=f"{ms}-{seq}", approximate=False)
        entries = int(await self.redis.xlen(self.stream))
        STREAM_ENTRIES.set(entries)
        self._room = self.max_entries - entries
        self._set_paused(self._room <= 0, entries)

    async def _group_progress(self) -> GroupProgress | None:
        """The group's progress on the stream; None when the stream or the group is missing."""
        try:
            groups = await self.redis.xinfo_groups(self.stream)
        except ResponseError:  # no such key: the stream is gone (or was never made)
            return None
        found = [g for g in groups if _text(g["name"]) == self.group]
        if not found:
            return None
        pending = await self.redis.xpending(self.stream, self.group)
        oldest = pending.get("min") if pending and pending.get("pending") else None
        return GroupProgress(
            last_delivered=parse_entry_id(found[0]["last-delivered-id"]),
            oldest_pending=parse_entry_id(oldest) if oldest else None,
        )

    async def _settle_waiting(self, progress: GroupProgress | None) -> None:
        before = datetime.now(UTC) - self.check_after
        waiting = await self.db.run(lambda session: _waiting(session, before))
        if not waiting:
            return
        present = await self._present([w.stream_id for w in waiting])
        done, lost = [], []
        for row, here in zip(waiting, present, strict=True):
            if not here:
                lost.append(row)  # the entry is gone, and nobody acknowledged it
            elif progress is not None and row.stream_id and progress.acknowledged(row.stream_id):
                done.append(row.row_id)
        if done:
            await self.db.run(lambda session: _mark_acknowledged(session, done))
            ACKNOWLEDGED.inc(len(done))
        if lost:
            entries = await self._publish(lost)
            sent = [(row.row_id, entry) for row, entry in zip(lost, entries, strict=True)]
            await self.db.run(lambda session: _mark_sent(session, sent))
            REPUBLISHED.inc(len(lost))
            log.warning("events republished: their entries vanished", count=len(lost))

    async def _present(self, entries: list[EntryId | None]) -> list[bool]:
        """Whether each entry is still in the stream (``XRANGE id id``, one round trip)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for entry in entries:
                name = f"{entry[0]}-{entry[1]}" if entry else "0-0"
                pipe.xrange(self.stream, min=name, max=name, count=1)
            found = await pipe.execute()
        return [bool(entry) and bool(hit) for entry, hit in zip(entries, found, strict=True)]

    def _set_paused(self, paused: bool, entries: int) -> None:
        if paused and not self._paused:
            log.warning(
                "publishing paused: the stream is full of unacknowledged entries",
                stream=self.stream,
                entries=entries,
                max_entries=self.max_entries,
            )
        elif self._paused and not paused:
            log.info("publishing resumed", stream=self.stream, entries=entries)
        self._paused = paused
        PAUSED.set(1 if paused else 0)

    # -- the loop -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Relays until :meth:`stop`; then one last pass publishes the rows of the orders that
        were placed while the server drained its in-flight requests."""
        next_check = 0.0
        while not self._stopping:
            self._wake.clear()  # before reading: a wake during the read is not lost
            if time.monotonic() >= next_check:
                await self._logged(self.check())
                next_check = time.monotonic() + self.poll_seconds
            if await self._logged(self.relay_once()) == BATCH:
                continue  # more are waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
        while await self._logged(self.relay_once()) == BATCH:
            pass

    async def _logged(self, step: Any) -> int:
        try:
            return int(await step or 0)
        except Exception as error:  # the database or Redis is away: retry at the next poll
            log.warning("relay failed", error=repr(error))
            self._room = 0  # and check the stream again before publishing
            return 0
