"""Tries an entry again however often it crashed its consumers.

A kept wrong solution: the tests of this exercise must catch it.

The notifier of the capstone runs this consumer; so can any service that reacts to events.
It reads a Redis stream in a consumer group and, for each entry:

1. decodes it with the ``decode`` it was given; one that cannot be decoded (bad JSON, unknown
   type or version) is *poison*: it goes to the dead-letter stream with its reason, at once;
2. in ONE PostgreSQL transaction, records ``(group, event_id)`` in ``processed_events`` and
   runs ``handler(session, event)``, the effect; a duplicate finds its id recorded and does
   nothing, so each effect happens once however often the entry is delivered;
3. retries a transient failure with exponential backoff and jitter (07.2), and dead-letters
   the entry when the attempts run out or the handler says ``PoisonMessage``;
4. acknowledges the entry (``XACK``) only after its effect committed or its dead letter was
   written: an entry in hand when the process dies stays pending and is delivered again.

Several instances share one group (each with its own ``consumer`` name); a dead instance's
entries are taken over with ``XAUTOCLAIM``; an instance that restarts under the same name
first finishes its own pending entries. If Redis loses its data, the consumer recreates its
group and carries on: the outbox relay (07.8) publishes again whatever was lost.

A :class:`ConsumerHooks` object lets a service wrap each entry (``handling``: a context from
decoding to the acknowledgement, which the handler's transaction sees too, say a trace span
continued from the entry's ``traceparent`` field) and learn each outcome (``handled``: metrics,
log lines).
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
from redis.exceptions import ResponseError
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from .retries import RetryPolicy, process_with_retries

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


class StreamConsumer:
    """One member of a consumer group; see the module docstring for what it promises."""

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
        for name, value in (
            ("claim_idle_ms", claim_idle_ms),
            ("max_deliveries", max_deliveries),
            ("batch_size", batch_size),
            ("block_ms", block_ms),
        ):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
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
        self._joined = False
        self._stopping = asyncio.Event()

    # -- the group --------------------------------------------------------------------

    async def ensure_group(self) -> None:
        """Creates the group at id ``0`` (every entry, even those added before), and the
        stream with it; a group that exists already is fine."""
        try:
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    # -- one entry --------------------------------------------------------------------

    async def handle(self, entry_id: str, fields: Mapping[Any, Any] | None) -> str:
        """Processes one entry and acknowledges it; returns PROCESSED, DUPLICATE,
        DEAD_LETTERED or SKIPPED (an entry deleted from the stream while pending)."""
        entry_id = _text(entry_id)
        with self.hooks.handling(entry_id, fields or {}):
            outcome = await self._handle(entry_id, fields)
        self.hooks.handled(entry_id, outcome)
        return outcome

    async def _handle(self, entry_id: str, fields: Mapping[Any, Any] | None) -> str:
        if not fields:
            await self.redis.xack(self.stream, self.group, entry_id)
            return SKIPPED
        raw = _field(fields, "event")
        if raw is None:
            await self._dead_letter(entry_id, b"", "the entry has no 'event' field")
            return DEAD_LETTERED
        try:
            event = self.decode(raw)
        except Exception as error:  # decoding is deterministic: a retry can never help
            await self._dead_letter(entry_id, raw, getattr(error, "reason", None) or str(error))
            return DEAD_LETTERED
        outcome = PROCESSED

        async def apply(message: Any) -> None:
            nonlocal outcome
            first = await asyncio.to_thread(self._apply_in_transaction, message)
            outcome = PROCESSED if first else DUPLICATE

        async def dead_letter(_: Any, reason: str) -> None:
            nonlocal outcome
            await self._dead_letter(entry_id, raw, reason)
            outcome = DEAD_LETTERED

        result = await process_with_retries(
            event, apply, self.retry, dead_letter=dead_letter, sleep=self.sleep, rng=self.rng
        )
        if result.ok:
            await self.redis.xack(self.stream, self.group, entry_id)
        return outcome

    def _apply_in_transaction(self, event: Any) -> bool:
        """The dedup row and the effect, committed together (runs on a worker thread)."""
        with self.sessions.begin() as session:
            first = session.execute(
                text(
                    "INSERT INTO processed_events (consumer_group, event_id, processed_at) "
                    "VALUES (:group, :event_id, :now) ON CONFLICT DO NOTHING RETURNING event_id"
                ),
                {"group": self.group, "event_id": str(event.event_id), "now": self.clock()},
            ).first()
            if first is None:
                return False
            self.handler(session, event)
            return True

    async def _dead_letter(self, entry_id: str, raw: bytes | str, reason: str) -> None:
        """Writes the dead letter and acknowledges the entry in one MULTI/EXEC."""
        log.warning("dead letter", extra={"entry_id": entry_id, "reason": reason})
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(
                self.dead_letter_stream,
                {
                    "entry_id": entry_id,
                    "stream": self.stream,
                    "group": self.group,
                    "consumer": self.consumer,
                    "reason": reason[:1000],
                    "event": raw,
                    "failed_at": self.clock().isoformat(),
                },
            )
            pipe.xack(self.stream, self.group, entry_id)
            await pipe.execute()

    # -- rounds -------------------------------------------------------------------------

    async def consume_once(self) -> int:
        """One round; returns how many entries it handled.

        The first round (and the first after an error) joins: creates the group if needed and
        handles this consumer's own pending entries (``XREADGROUP`` from id ``0``). Every round
        then takes over entries idle for ``claim_idle_ms`` on any consumer (``XAUTOCLAIM``,
        following its cursor), and reads new entries (``>``), blocking up to ``block_ms``.
        An entry delivered more than ``max_deliveries`` times goes to the dead letter
        unprocessed: it has crashed its consumers often enough.
        """
        handled = 0
        try:
            if not self._joined:
                await self.ensure_group()
                while entries := await self._read("0", block_ms=None):
                    handled += await self._handle_history(entries)
                self._joined = True
            handled += await self._claim_stale()
            for entry_id, fields in await self._read(">", block_ms=self.block_ms):
                await self.handle(entry_id, fields)
                handled += 1
        except BaseException:
            self._joined = False  # NOGROUP after Redis lost its data, a broken connection...
            raise
        return handled

    async def _read(self, start: str, block_ms: int | None) -> list[tuple[Any, Any]]:
        reply: Any = await self.redis.xreadgroup(
            self.group,
            self.consumer,
            {self.stream: start},
            count=self.batch_size,
            block=block_ms,
        )
        return [entry for _, entries in reply or [] for entry in entries]

    async def _claim_stale(self) -> int:
        handled, cursor = 0, "0-0"
        while True:
            reply = await self.redis.xautoclaim(
                self.stream,
                self.group,
                self.consumer,
                min_idle_time=self.claim_idle_ms,
                start_id=cursor,
                count=self.batch_size,
            )
            cursor = _text(reply[0])
            handled += await self._handle_history(reply[1])
            if cursor == "0-0":
                return handled

    async def _handle_history(self, entries: list[tuple[Any, Any]]) -> int:
        """Entries delivered before: dead-letter those that were delivered too often."""
        if not entries:
            return 0
        async with self.redis.pipeline(transaction=False) as pipe:
            for entry_id, _ in entries:
                pipe.xpending_range(self.stream, self.group, min=entry_id, max=entry_id, count=1)
            details = await pipe.execute()
        for (entry_id, fields), detail in zip(entries, details, strict=True):
            deliveries = int(detail[0]["times_delivered"]) if detail else 0
            if fields and deliveries < 0:
                raw = _field(fields, "event") or b""
                reason = f"delivered {deliveries} times without an acknowledgement"
                await self._dead_letter(_text(entry_id), raw, reason)
                self.hooks.handled(_text(entry_id), DEAD_LETTERED)
            else:
                await self.handle(entry_id, fields)
        return len(entries)

    # -- the loop -----------------------------------------------------------------------

    def stop(self) -> None:
        """Asks :meth:`run` to return after the current round."""
        self._stopping.set()

    async def run(self) -> None:
        """Rounds until :meth:`stop` (graceful) or cancellation (immediate: an entry in hand
        stays pending and is delivered again). Errors (Redis or PostgreSQL away, the group
        gone) are logged, followed by a short jittered pause, and never end the loop."""
        failures = 0
        while not self._stopping.is_set():
            try:
                await self.consume_once()
                failures = 0
            except Exception as error:
                failures += 1
                log.warning("consumer round failed: %r", error)
                pause = self.retry.delay(min(failures, 8), self.rng)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), pause)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _field(fields: Mapping[Any, Any], name: str) -> Any:
    """A field of an entry read by a client with or without ``decode_responses``."""
    value = fields.get(name)
    return fields.get(name.encode()) if value is None else value
