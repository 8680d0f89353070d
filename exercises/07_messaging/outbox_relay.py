"""07.8 (capstone piece, part 2) — the transactional outbox and its relay.

**The promise**: every accepted order produces exactly one notification, even if Redis loses
all its data, as long as PostgreSQL keeps its data.

How the pieces keep it:

- the service writes its change and the event's outbox row in ONE transaction
  (:func:`add_to_outbox`): no order without its event, no event without its order;
- the relay publishes each row to the stream (``XADD``) and remembers the entry id it got;
- a row is **finished** (``sent_at`` set) only when the consumer group has acknowledged its
  entry: the entry is no longer pending and the group's last-delivered id has passed it.
  ``XADD`` returning is not enough: Redis holds the entry in memory, and a restart loses it;
- a row whose entry is lost (the stream or the group gone, the entry missing, or its id now
  used by another event) is published again; the consumer (07.7) writes each effect once by
  event id, so a second copy costs nothing.

Compare RabbitMQ: there a publisher is done once the broker *confirms* a *persistent* message
on a *durable* queue: the broker promises to keep it on disk. Redis without persistence makes
no such promise, so the outbox keeps the truth in PostgreSQL and asks the group instead.

**The interface the capstone runs on** (everything is injected; the relay reads no settings
and no globals):

- ``sessions``: a SQLAlchemy 2 ``sessionmaker[Session]``; each transaction runs on a worker
  thread (``asyncio.to_thread``). The table ``outbox`` (``SCHEMA_SQL``) must exist.
- ``redis``: a ``redis.asyncio.Redis``, with or without ``decode_responses``.
- ``stream`` and ``group``: where to publish, and the consumer group whose acknowledgement
  finishes a row. Each entry has the fields ``event_id``, ``type`` and ``event`` (the body,
  byte for byte), and the row's ``headers`` beside them.
- ``name``: this relay's name in the leases (a random one when None). Several relays run at
  once, one per instance of the service.
- ``clock``: returns the current UTC datetime; every timestamp and every lease uses it.
- ``batch_size`` (>= 1), ``lease_seconds`` (> 0), ``recheck_seconds`` (>= 0),
  ``poll_seconds`` (> 0), ``max_entries`` (None, or >= 1): ValueError naming the option
  otherwise.
- ``hooks``: a :class:`RelayHooks` (None: one that does nothing).

**Leases.** A pass claims rows with ``FOR UPDATE SKIP LOCKED`` inside a short transaction and
stamps them ``lease_owner = name``, ``lease_until = clock() + lease_seconds``; other relays skip
rows whose ``lease_until`` is in the future. No transaction is open while the relay talks to
Redis. After the pass, the relay records its results only on rows it still holds
(``WHERE ... AND lease_owner = name``) and sets ``lease_until`` to ``clock() +
recheck_seconds`` for rows in flight (published, not finished), so they are checked again no
sooner than that. If Redis fails during a pass, or the pass is cancelled (the service shuts
down), the relay gives its rows back (clears its leases) and the error or the cancellation
propagates; if the relay dies without that chance, its leases run out by themselves.

**Back-pressure, never a blind trim.** A blind ``MAXLEN`` would drop entries nobody has read
yet. With ``max_entries``, a pass measures the stream (``XLEN``) before it publishes and
``XADD``s only as many rows as there is room for; the others are *held* (their lease given
back, for a later pass) and ``paused`` is True until a pass publishes all it wanted. While
paused, rows in flight are claimed first: only their acknowledgements make room. After a pass
that finished rows, ``XTRIM stream MINID <id>`` (exact, not ``~``) removes the entries every
row is done with: below the group's oldest pending entry (``XPENDING stream group``: its
``min``), or, with nothing pending, below last-delivered-id + 1; and below the smallest entry
id of a row that is published but not finished (its row still needs to find it).

**Headers and hooks** carry what a service adds around the event (a trace context, a request
id): :func:`add_to_outbox` stores ``headers`` with the row, and the relay writes them into the
entry; :class:`RelayHooks` sees every publication and every pass.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from redis.asyncio import Redis
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
    """Adds an event to the outbox inside the caller's transaction: it never commits (the
    order and its event commit together, or neither does). ``body`` is the encoded event;
    ValueError (naming ``body``) when it is empty. ``headers`` (text names and values, stored
    as jsonb) go out with the event as more fields of its entry; ValueError naming the field
    for a header named like one of ``ENTRY_FIELDS``."""
    raise NotImplementedError(
        "07.8: INSERT INTO outbox (event_id, type, body, headers) on the session"
    )


def _refuse_bad_options(
    batch_size: int,
    lease_seconds: float,
    recheck_seconds: float,
    poll_seconds: float,
    max_entries: int | None,
) -> None:
    """ValueError, naming the option, for batch_size < 1, lease_seconds <= 0,
    recheck_seconds < 0, poll_seconds <= 0 or max_entries < 1."""
    raise NotImplementedError("07.8: check the five options")


@dataclass(frozen=True)
class RelayReport:
    """What one pass did: rows claimed; published for the first time; published again after
    their entry was lost; confirmed (finished: the group acknowledged them); still in flight;
    held back because the stream was full. ``stream_length``: the entries the stream held
    when the pass measured it (None when it did not: no ``max_entries``, nothing to publish)."""

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
        published again); returns more fields for its entry, which win over its headers
        (never over ``ENTRY_FIELDS``)."""
        return {}

    def published(self, message: OutboxMessage, entry_id: str) -> None:
        """Called once ``message``'s XADD answered with ``entry_id``, in id order."""

    def passed(self, report: RelayReport) -> None:
        """Called after every pass that claimed rows, with what it did."""


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
        _refuse_bad_options(batch_size, lease_seconds, recheck_seconds, poll_seconds, max_entries)
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
        self.paused = False  # the last pass that published found the stream full
        self._wake = asyncio.Event()
        self._stopping = False

    async def relay_once(self) -> RelayReport:
        """One pass over at most ``batch_size`` unfinished rows; returns what it did.

        1. Claim (a short transaction): rows with ``sent_at`` NULL whose lease is free
           (``lease_until`` NULL or not after now), unpublished ones first (rows in flight
           first while ``paused``), then by id; ``FOR UPDATE SKIP LOCKED``; stamp the lease.
        2. Check the published ones (``stream_id`` set) against the group: *acknowledged*
           when ``XRANGE stream id id`` still finds the entry with the row's ``event_id``,
           the group's ``last-delivered-id`` (``XINFO GROUPS``) is at or past the id, and
           ``XPENDING stream group id id 1`` is empty; *lost* when the stream (``no such
           key``) or the group is gone, or the entry is missing or another event's;
           otherwise *in flight*. Stream ids compare as (milliseconds, sequence) integers.
        3. With ``max_entries``: ``XLEN``, and keep only as many of the rows to publish
           (the unpublished and the lost, in id order) as there is room for; set ``paused``.
        4. Create the group at id ``0`` with MKSTREAM (BUSYGROUP is fine), then ``XADD``
           them in id order, each with its headers, the fields of
           ``hooks.before_publish(row)``, and ``ENTRY_FIELDS``; then ``hooks.published``.
        5. Record (a short transaction, only rows this relay still leases): published rows
           get ``stream_id``, ``published_at``; acknowledged rows get ``sent_at``; in-flight
           and published rows get ``lease_until = clock() + recheck_seconds``; held rows get
           ``lease_until`` NULL; every lease of this pass is released (``lease_owner`` NULL).
        6. If rows were finished, trim (see the module docstring); then ``hooks.passed``.
        """
        raise NotImplementedError("07.8: claim, check, publish, record")

    def wake(self) -> None:
        """Publish now rather than at the next poll (call it after a commit that added rows)."""
        raise NotImplementedError("07.8: set the wake event")

    def stop(self) -> None:
        """Asks :meth:`run` to finish: one last pass, then it returns."""
        raise NotImplementedError("07.8: remember to stop, and wake the loop")

    async def run(self) -> None:
        """Passes until :meth:`stop` or cancellation.

        After a pass that filled its batch and made progress (published, republished or
        confirmed rows), the next pass starts at once; otherwise the relay waits for
        :meth:`wake` or ``poll_seconds``. Errors (Redis or PostgreSQL away) are logged and
        retried at the next poll: an ``Exception`` never ends the loop. After :meth:`stop`,
        one last pass publishes what is ready, then ``run`` returns. Cancelled, it gives back
        the rows of the pass in progress and lets the cancellation propagate.
        """
        raise NotImplementedError("07.8: loop relay_once, wait for wake or the poll, stop")
