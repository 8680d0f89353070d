"""Keeps its lease when Redis fails: the rows wait for the lease to run out after Redis is back.

A kept wrong solution: the tests of this exercise must catch it.

**The promise**: every accepted order produces exactly one notification, even if Redis loses
all its data, as long as PostgreSQL keeps its data.

How the pieces keep it:

- the service writes its change and the event's outbox row in ONE transaction
  (:func:`add_to_outbox`): no order without its event, no event without its order;
- the relay publishes each row to the stream (``XADD``) and remembers the entry id it got;
- a row is **finished** only when the consumer group has acknowledged its entry: the entry is
  no longer pending and the group's last-delivered id has passed it. ``XADD`` returning is not
  enough: Redis holds the entry in memory, and a restart can lose it;
- a row whose entry is lost (the stream or the group gone, the entry missing or replaced by
  another) is published again; the consumer (07.7) writes each effect once by event id, so a
  second copy costs nothing.

Several relays may run at once (one per instance of the service). A relay **leases** the rows
it works on: it claims them with ``FOR UPDATE SKIP LOCKED`` and stamps ``lease_owner`` and
``lease_until``; other relays skip leased rows until the lease runs out (or the relay gives
them back: after a Redis error, or when it is cancelled). No PostgreSQL lock is held while the
relay talks to Redis. The same ``lease_until`` also spaces out the checks of
rows in flight (``recheck_seconds``).

**Back-pressure, never a blind trim.** With ``max_entries``, the stream never holds more
entries than that: a pass publishes only as many rows as there is room for, and leaves the
others in the outbox (``paused`` is then True; while paused, rows in flight are claimed first,
since only their acknowledgements make room). Entries are removed only once every row is done
with them: after a pass that finished rows, ``XTRIM MINID`` below the group's oldest pending
entry, below what it has not read yet, and below the smallest entry of an unfinished row.

**Headers and hooks.** ``add_to_outbox`` may store ``headers`` with the event (say a
``traceparent`` or a request id): they travel beside the event as more fields of its entry.
A :class:`RelayHooks` object sees each publication (``before_publish`` may add fields,
``published`` gets the entry id) and each pass's report: that is where a service puts its
tracing spans, log lines and metrics.

Columns of ``outbox``: ``stream_id`` NULL means not yet published (or to publish again);
``sent_at`` set means finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import ResponseError
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS outbox (
    id bigserial PRIMARY KEY,
    event_id text NOT NULL UNIQUE,
    type text NOT NULL,
    body bytea NOT NULL,
    headers jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    stream_id text,
    published_at timestamptz,
    lease_owner text,
    lease_until timestamptz,
    sent_at timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unfinished ON outbox (id) WHERE sent_at IS NULL;
"""
# the fields of every entry; headers and hooks cannot replace them
ENTRY_FIELDS = ("event_id", "type", "event")

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


def add_to_outbox(
    session: Session,
    *,
    event_id: UUID | str,
    type: str,
    body: bytes,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Adds an event to the outbox inside the caller's transaction (it never commits).

    ``headers`` (text names and values) go out with the event as more fields of its entry;
    ValueError for a header named like an entry field (``event_id``, ``type``, ``event``)."""
    if not body:
        raise ValueError("body must not be empty: it is the encoded event")
    headers = dict(headers or {})
    taken = sorted(set(headers) & set(ENTRY_FIELDS))
    if taken:
        raise ValueError(f"headers must not be named {', '.join(taken)}: the entry's own fields")
    session.execute(
        text(
            "INSERT INTO outbox (event_id, type, body, headers) "
            "VALUES (:event_id, :type, :body, CAST(:headers AS jsonb))"
        ),
        {"event_id": str(event_id), "type": type, "body": body, "headers": json.dumps(headers)},
    )


@dataclass(frozen=True)
class RelayReport:
    """What one pass did: rows claimed, published for the first time, published again after
    their entry was lost, confirmed (finished), still in flight, and held back because the
    stream was full (``stream_length``: the entries it held then, None when not measured)."""

    claimed: int = 0
    published: int = 0
    republished: int = 0
    confirmed: int = 0
    in_flight: int = 0
    held: int = 0
    stream_length: int | None = None


@dataclass(frozen=True)
class OutboxMessage:
    """A claimed row: its event, its headers, and its entry id if it was published before."""

    id: int
    event_id: str
    type: str
    body: bytes
    stream_id: str | None
    headers: Mapping[str, str] = field(default_factory=dict)


class RelayHooks:
    """What a service may add around the relay; the defaults do nothing. Subclass it and
    override what you need (the capstone makes its trace spans, logs and metrics here)."""

    def before_publish(self, message: OutboxMessage) -> Mapping[str, str]:
        """Called just before ``message`` is XADDed (``message.stream_id`` is set when it is
        published again); returns more fields for its entry, which win over its headers."""
        return {}

    def published(self, message: OutboxMessage, entry_id: str) -> None:
        """Called once ``message``'s XADD answered with ``entry_id``."""

    def passed(self, report: RelayReport) -> None:
        """Called after every pass that claimed rows, with what it did."""


@dataclass(frozen=True)
class _Check:
    """The group's answer for the rows in flight, and how far it is: every entry before
    ``keep_from`` is read and acknowledged (None: the stream or the group is missing)."""

    status: dict[int, str]
    keep_from: tuple[int, int] | None = None


class OutboxRelay:
    """Publishes the outbox to a Redis stream and finishes rows once the group has them."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        redis: Redis,
        stream: str,
        group: str,
        name: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        batch_size: int = 100,
        lease_seconds: float = 30.0,
        recheck_seconds: float = 1.0,
        poll_seconds: float = 0.5,
        max_entries: int | None = None,
        hooks: RelayHooks | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be positive, got {lease_seconds}")
        if recheck_seconds < 0:
            raise ValueError(f"recheck_seconds must not be negative, got {recheck_seconds}")
        if poll_seconds <= 0:
            raise ValueError(f"poll_seconds must be positive, got {poll_seconds}")
        if max_entries is not None and max_entries < 1:
            raise ValueError(f"max_entries must be at least 1 (or None), got {max_entries}")
        self.sessions = sessions
        self.redis = redis
        self.stream = stream
        self.group = group
        self.name = name or f"relay-{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self.batch_size = batch_size
        self.lease = timedelta(seconds=lease_seconds)
        self.recheck = timedelta(seconds=recheck_seconds)
        self.poll_seconds = poll_seconds
        self.max_entries = max_entries
        self.hooks = hooks or RelayHooks()
        self.paused = False  # the last publishing pass found the stream full
        self._wake = asyncio.Event()
        self._stopping = False

    # -- one pass -----------------------------------------------------------------------

    async def relay_once(self) -> RelayReport:
        """Claims up to ``batch_size`` unfinished rows (unpublished ones first, rows in flight
        first while paused), checks the published ones against the group, publishes the new
        and the lost as far as the stream has room, records it all, and trims what every row
        is done with."""
        rows = await asyncio.to_thread(self._claim)
        if not rows:
            return RelayReport()
        in_flight = [row for row in rows if row.stream_id is not None]
        try:
            check = await self._check(in_flight)
            status = check.status
            lost = [row for row in in_flight if status[row.id] == "lost"]
            confirmed = [row for row in in_flight if status[row.id] == "acknowledged"]
            waiting = [row for row in in_flight if status[row.id] == "in flight"]
            to_publish = sorted(
                [row for row in rows if row.stream_id is None] + lost, key=lambda r: r.id
            )
            room, length = await self._room(len(to_publish))
            published = await self._publish(to_publish[:room])
        except BaseException:
            # Redis failed us, or we are being cancelled (shut down): give the rows back now
            # rather than when the lease ends. If this fails too, the lease runs out by itself.
            raise
        held = to_publish[room:]
        oldest_unfinished = await asyncio.to_thread(
            self._record, published, confirmed, waiting, held
        )
        if confirmed and check.keep_from is not None:
            await self._trim(check.keep_from, oldest_unfinished)
        report = RelayReport(
            claimed=len(rows),
            published=sum(1 for row in to_publish[:room] if row.stream_id is None),
            republished=sum(1 for row in to_publish[:room] if row.stream_id is not None),
            confirmed=len(confirmed),
            in_flight=len(waiting),
            held=len(held),
            stream_length=length,
        )
        self.hooks.passed(report)
        return report

    def _claim(self) -> list[OutboxMessage]:
        now = self.clock()
        # while the stream is full, rows in flight come first: only their acknowledgements
        # make room, and unpublished rows could otherwise fill every batch
        order = "(stream_id IS NULL)" if self.paused else "(stream_id IS NOT NULL)"
        with self.sessions.begin() as session:
            result = session.execute(
                text(
                    f"""
                    UPDATE outbox SET lease_owner = :me, lease_until = :until
                    WHERE id IN (
                        SELECT id FROM outbox
                        WHERE sent_at IS NULL AND (lease_until IS NULL OR lease_until <= :now)
                        ORDER BY {order}, id
                        LIMIT :limit
                        FOR UPDATE SKIP LOCKED
                    )
                    RETURNING id, event_id, type, body, stream_id, headers
                    """
                ),
                {"me": self.name, "until": now + self.lease, "now": now, "limit": self.batch_size},
            )
            rows = [
                OutboxMessage(r.id, r.event_id, r.type, bytes(r.body), r.stream_id, r.headers)
                for r in result
            ]
        return sorted(rows, key=lambda row: row.id)

    async def _check(self, rows: list[OutboxMessage]) -> _Check:
        """'acknowledged', 'in flight' or 'lost' for each published row, and how far the
        group has read and acknowledged."""
        if not rows:
            return _Check({})
        try:
            groups = await self.redis.xinfo_groups(self.stream)
        except ResponseError as error:
            if "no such key" not in str(error).lower():
                raise
            return _Check({row.id: "lost" for row in rows})  # the stream is gone
        group = next((g for g in groups if _text(g["name"]) == self.group), None)
        if group is None:  # nobody will ever read these entries
            return _Check({row.id: "lost" for row in rows})
        last_delivered = _stream_id(_text(group["last-delivered-id"]))
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xpending(self.stream, self.group)
            for row in rows:
                assert row.stream_id is not None
                pipe.xrange(self.stream, row.stream_id, row.stream_id, count=1)
                pipe.xpending_range(
                    self.stream, self.group, min=row.stream_id, max=row.stream_id, count=1
                )
            summary, *replies = await pipe.execute()
        status: dict[int, str] = {}
        for index, row in enumerate(rows):
            entries, pending = replies[2 * index], replies[2 * index + 1]
            assert row.stream_id is not None
            if not entries or _event_id_of(entries[0][1]) != row.event_id:
                status[row.id] = "lost"  # missing, or a new entry reusing the id
            elif _stream_id(row.stream_id) <= last_delivered and not pending:
                status[row.id] = "acknowledged"
            else:
                status[row.id] = "in flight"
        if summary and summary.get("pending") and summary.get("min"):
            keep_from = _stream_id(_text(summary["min"]))
        else:
            keep_from = (last_delivered[0], last_delivered[1] + 1)
        return _Check(status, keep_from)

    async def _room(self, wanted: int) -> tuple[int, int | None]:
        """How many of ``wanted`` rows the stream may take, and its length (None when there
        is no ``max_entries``, or nothing to publish)."""
        if self.max_entries is None or not wanted:
            return wanted, None
        length = int(await self.redis.xlen(self.stream))
        room = max(0, min(wanted, self.max_entries - length))
        if room < wanted and not self.paused:
            log.warning("stream %s is full (%d entries): publishing paused", self.stream, length)
        elif room == wanted and self.paused:
            log.info("stream %s has room again: publishing resumed", self.stream)
        self.paused = room < wanted
        return room, length

    async def _publish(self, rows: list[OutboxMessage]) -> dict[int, str]:
        """XADDs the rows in id order; returns each row's new entry id."""
        if not rows:
            return {}
        try:  # a group from id 0 before the first entry: no entry can slip past it
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        async with self.redis.pipeline(transaction=False) as pipe:
            for row in rows:
                fields: dict[str, str | bytes] = {**row.headers, **self.hooks.before_publish(row)}
                fields |= {"event_id": row.event_id, "type": row.type, "event": row.body}
                pipe.xadd(self.stream, fields)  # type: ignore[arg-type]
            entry_ids = [_text(entry_id) for entry_id in await pipe.execute()]
        for row, entry_id in zip(rows, entry_ids, strict=True):
            self.hooks.published(row, entry_id)
        return {row.id: entry_id for row, entry_id in zip(rows, entry_ids, strict=True)}

    async def _trim(self, keep_from: tuple[int, int], oldest_unfinished: str | None) -> None:
        """``XTRIM MINID``: removes the entries below ``keep_from`` (read and acknowledged by
        the group) that no unfinished row still needs to find. Exact, not ``~``: an
        approximate trim frees whole nodes only, and would leave them counting as entries."""
        if oldest_unfinished is not None:
            keep_from = min(keep_from, _stream_id(oldest_unfinished))
        milliseconds, sequence = keep_from
        await self.redis.xtrim(self.stream, minid=f"{milliseconds}-{sequence}", approximate=False)

    def _release(self, ids: list[int]) -> None:
        with self.sessions.begin() as session:
            session.execute(
                text(
                    "UPDATE outbox SET lease_owner = NULL, lease_until = NULL "
                    "WHERE id = ANY(:ids) AND lease_owner = :me"
                ),
                {"ids": ids, "me": self.name},
            )

    def _record(
        self,
        published: dict[int, str],
        confirmed: list[OutboxMessage],
        waiting: list[OutboxMessage],
        held: list[OutboxMessage],
    ) -> str | None:
        """Writes the pass's results, only for rows this relay still holds the lease of; when
        rows were confirmed, returns the smallest entry id of an unfinished row (the trim
        keeps it), in the same transaction."""
        now = self.clock()
        recheck_at = now + self.recheck
        mine = "WHERE id = :id AND lease_owner = :me"
        with self.sessions.begin() as session:
            if published:
                session.execute(
                    text(
                        "UPDATE outbox SET stream_id = :stream_id, published_at = :now, "
                        f"lease_owner = NULL, lease_until = :recheck_at {mine}"
                    ),
                    [
                        {
                            "id": i,
                            "stream_id": s,
                            "now": now,
                            "recheck_at": recheck_at,
                            "me": self.name,
                        }
                        for i, s in published.items()
                    ],
                )
            if confirmed:
                session.execute(
                    text(
                        "UPDATE outbox SET sent_at = :now, lease_owner = NULL, "
                        f"lease_until = NULL {mine}"
                    ),
                    [{"id": row.id, "now": now, "me": self.name} for row in confirmed],
                )
            if waiting:
                session.execute(
                    text(f"UPDATE outbox SET lease_owner = NULL, lease_until = :recheck_at {mine}"),
                    [{"id": row.id, "recheck_at": recheck_at, "me": self.name} for row in waiting],
                )
            if held:  # the stream was full: free to claim at the next pass
                session.execute(
                    text(f"UPDATE outbox SET lease_owner = NULL, lease_until = NULL {mine}"),
                    [{"id": row.id, "me": self.name} for row in held],
                )
            if not confirmed:
                return None
            # ids compare as numbers: '10-0' sorts before '9-0' as text
            return session.scalar(
                text(
                    "SELECT stream_id FROM outbox "
                    "WHERE sent_at IS NULL AND stream_id IS NOT NULL "
                    "ORDER BY split_part(stream_id, '-', 1)::bigint, "
                    "split_part(stream_id, '-', 2)::bigint LIMIT 1"
                )
            )

    # -- the loop -----------------------------------------------------------------------

    def wake(self) -> None:
        """Publish now rather than at the next poll (call it after a commit that added rows)."""
        self._wake.set()

    def stop(self) -> None:
        """Asks :meth:`run` to finish: one last pass, then it returns."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Passes until :meth:`stop` or cancellation.

        After a pass that filled its batch and made progress, the next pass starts at once;
        otherwise the relay waits for :meth:`wake` or ``poll_seconds``. Errors (Redis or
        PostgreSQL away) are logged and retried at the next poll: they never end the loop.
        After :meth:`stop`, one last pass publishes what is ready, then ``run`` returns.
        Cancelled mid-pass, it gives back the rows it had claimed, then the cancellation
        propagates; a relay that dies without that chance holds them until its lease runs out.
        """
        while not self._stopping:
            self._wake.clear()  # before the pass: a wake() during it is not lost
            report = await self._pass_logged()
            progress = report.published + report.republished + report.confirmed
            if report.claimed == self.batch_size and progress:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
        await self._pass_logged()

    async def _pass_logged(self) -> RelayReport:
        try:
            return await self.relay_once()
        except Exception as error:
            log.warning("outbox relay pass failed: %r", error)
            return RelayReport()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _stream_id(value: str) -> tuple[int, int]:
    """Stream ids compare as (milliseconds, sequence) numbers, never as strings."""
    milliseconds, _, sequence = value.partition("-")
    return int(milliseconds), int(sequence or 0)


def _event_id_of(fields: Mapping[Any, Any]) -> str | None:
    value = fields.get("event_id", fields.get(b"event_id"))
    return None if value is None else _text(value)
