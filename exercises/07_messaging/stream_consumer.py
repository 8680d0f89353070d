"""07.7 (capstone piece, part 1) — the idempotent stream consumer.

The capstone's notifier runs this consumer on the ``orders.events`` stream; any service that
reacts to events can. It is built from the earlier exercises: the group mechanics of 07.3,
the poison messages of 07.1, the retries of 07.2 (it imports ``RetryPolicy`` and
``process_with_retries``: finish 07.2 first), and the dedup of 07.5, now async.

**The interface the capstone runs on** (everything is injected; the consumer reads no
settings and no globals):

- ``sessions``: a SQLAlchemy 2 ``sessionmaker[Session]``; each transaction runs on a worker
  thread (``asyncio.to_thread``), so the event loop never blocks. The capstone passes
  ``Database.sessions``; the table ``processed_events`` (``SCHEMA_SQL``) must exist (the
  capstone creates it in a migration).
- ``redis``: a ``redis.asyncio.Redis``, with or without ``decode_responses`` (handle ids
  and field names as bytes or str).
- ``stream``, ``group``, ``consumer``: the stream, the consumer group, and this instance's
  name in it. Several instances share one group, each with its own stable name (a restarted
  instance gets its old name back and finishes its own pending entries first).
- ``handler(session, event)``: the effect, a plain function run INSIDE the transaction that
  records the event id: it writes through ``session`` only, and never commits. It raises
  ``PoisonMessage`` for an event it can never handle, any other exception for a failure
  worth retrying.
- ``decode(raw)``: turns the entry's ``event`` field (bytes, or str) into the event object
  the handler gets, which has an ``event_id``; it raises (PoisonMessage, or any exception)
  for a message that can never be decoded. In this lesson:
  ``functools.partial(envelope.decode, registry=envelope.order_events())``.
- ``dead_letter_stream``: where entries that cannot be processed go, one entry each with the
  fields ``entry_id``, ``stream``, ``group``, ``consumer``, ``reason``, ``event`` (the raw
  event, or empty) and ``failed_at`` (ISO 8601, from ``clock``).
- ``retry`` (a 07.2 RetryPolicy, default ``RetryPolicy()``), ``claim_idle_ms``,
  ``max_deliveries``, ``batch_size``, ``block_ms``: the tuning; each of the last four must
  be at least 1 (ValueError naming the option).
- ``clock`` (UTC datetimes), ``sleep`` and ``rng``: time and chance, injected for tests.
- ``hooks``: a :class:`ConsumerHooks` (None: one that does nothing). ``handle`` runs inside
  ``hooks.handling(entry_id, fields)`` (``fields``: all the entry's fields, ``{}`` when
  None), and calls ``hooks.handled(entry_id, outcome)`` after leaving it; an entry
  dead-lettered for too many deliveries is ``handled`` as DEAD_LETTERED too. The handler's
  transaction runs in a worker thread with a copy of the context (``asyncio.to_thread``),
  so it sees what ``handling`` set (a trace span, a request id for the logs).

An entry on the stream has the fields ``event_id``, ``type`` and ``event`` (the encoded
envelope), as the outbox relay (07.8) writes it, and maybe more (headers: ``traceparent``...).

**Per entry** (``handle``): decode (failure: dead letter with the reason, at once); then, in
ONE transaction, ``INSERT INTO processed_events ... ON CONFLICT DO NOTHING RETURNING`` and,
only for a first delivery, ``handler(session, event)``; transient failures are retried with
``process_with_retries``; the entry is acknowledged only after its effect committed (or its
dead letter was written): an entry in hand when the process dies stays pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.orm import Session, sessionmaker

from .retries import RetryPolicy, process_with_retries  # noqa: F401 - handle() uses it

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS processed_events (
    consumer_group text NOT NULL,
    event_id text NOT NULL,
    processed_at timestamptz NOT NULL,
    PRIMARY KEY (consumer_group, event_id)
)
"""

PROCESSED = "processed"
DUPLICATE = "duplicate"
DEAD_LETTERED = "dead-lettered"
SKIPPED = "skipped"

Handler = Callable[[Session, Any], None]
Decoder = Callable[[bytes], Any]

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class ConsumerHooks:
    """What a service may add around each entry; the defaults do nothing. Subclass it and
    override what you need (the capstone makes its trace spans, logs and metrics here)."""

    def handling(self, entry_id: str, fields: Mapping[Any, Any]) -> AbstractContextManager[object]:
        """The context the entry is handled in, from decoding to its ``XACK``; the handler
        runs in it too (``asyncio.to_thread`` copies the context). ``fields`` are all the
        entry's fields (empty for an entry deleted while pending)."""
        return contextlib.nullcontext()

    def handled(self, entry_id: str, outcome: str) -> None:
        """Called once the entry is done with: PROCESSED, DUPLICATE, DEAD_LETTERED or
        SKIPPED."""


def _refuse_bad_options(**options: int) -> None:
    """ValueError, naming the option, for any option below 1."""
    raise NotImplementedError("07.7: check that every option is at least 1")


class StreamConsumer:
    """One member of a consumer group; see the module docstring for the interface."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        redis: Redis,
        stream: str,
        group: str,
        consumer: str,
        handler: Handler,
        decode: Decoder,
        dead_letter_stream: str,
        retry: RetryPolicy | None = None,
        claim_idle_ms: int = 30_000,
        max_deliveries: int = 10,
        batch_size: int = 50,
        block_ms: int = 1_000,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        hooks: ConsumerHooks | None = None,
    ) -> None:
        _refuse_bad_options(
            claim_idle_ms=claim_idle_ms,
            max_deliveries=max_deliveries,
            batch_size=batch_size,
            block_ms=block_ms,
        )
        self.sessions = sessions
        self.redis = redis
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.handler = handler
        self.decode = decode
        self.dead_letter_stream = dead_letter_stream
        self.retry = retry or RetryPolicy()
        self.claim_idle_ms = claim_idle_ms
        self.max_deliveries = max_deliveries
        self.batch_size = batch_size
        self.block_ms = block_ms
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.hooks = hooks or ConsumerHooks()
        self._joined = False  # has consume_once joined the group since the last error?
        self._stopping = asyncio.Event()

    async def ensure_group(self) -> None:
        """Creates the group at id ``0`` (every entry, even those added before the group), and
        the stream with it (MKSTREAM); a group that exists already (BUSYGROUP) is fine."""
        raise NotImplementedError("07.7: XGROUP CREATE stream group 0 MKSTREAM")

    async def handle(self, entry_id: str, fields: Mapping[Any, Any] | None) -> str:
        """Processes one entry delivered to this consumer and acknowledges it.

        Returns PROCESSED (the effect ran), DUPLICATE (the event id was already recorded for
        this group: nothing done), DEAD_LETTERED (written to the dead-letter stream: decode
        failed, the handler raised PoisonMessage, or the retries ran out; ``reason`` is the
        error's ``reason`` attribute, or its text, or 07.2's "gave up after N attempts: ..."),
        or SKIPPED (``fields`` empty or None: the entry was deleted from the stream while
        pending). An entry without an ``event`` field is dead-lettered (the reason names the
        missing ``'event'`` field). ``processed_at`` comes from ``clock``.

        The dead letter and its XACK go together, in one MULTI/EXEC. An exception that is not
        an ``Exception`` (the process dying) leaves the entry pending, unacknowledged.

        All of it runs inside ``hooks.handling(entry_id, fields or {})``; then
        ``hooks.handled(entry_id, outcome)``.
        """
        raise NotImplementedError("07.7: decode, dedup + effect in one transaction, retries, ack")

    async def consume_once(self) -> int:
        """One round; returns how many entries it handled.

        The first round (and the first after any error) joins: ``ensure_group``, then handle
        this consumer's own pending entries (``XREADGROUP`` from id ``0``, until there are
        none). Every round then takes over the entries idle for ``claim_idle_ms`` on any
        consumer (``XAUTOCLAIM``, following its cursor to ``0-0``, ``batch_size`` a page),
        and reads new entries (``>``, ``batch_size`` at most), blocking up to ``block_ms``.

        Entries delivered before (own pending, claimed) are looked up with ``XPENDING``: one
        delivered more than ``max_deliveries`` times has crashed its consumers often enough;
        it goes to the dead letter unprocessed, with a reason that says
        ``delivered N times`` (N from ``times_delivered``).
        """
        raise NotImplementedError("07.7: join once (group + own pending), claim, read new")

    def stop(self) -> None:
        """Asks :meth:`run` to return after the current round."""
        raise NotImplementedError("07.7: set the stopping event")

    async def run(self) -> None:
        """Rounds until :meth:`stop` (graceful: it returns after the current round) or
        cancellation (immediate: an entry in hand stays pending and is delivered again).

        Errors (Redis or PostgreSQL away, ``NOGROUP`` because Redis lost its data) are
        logged and followed by a short jittered pause (``retry.delay``), and the next round
        joins again: the loop never ends on an ``Exception``. Cancellation propagates.
        """
        raise NotImplementedError("07.7: loop consume_once, survive errors, honour stop")
