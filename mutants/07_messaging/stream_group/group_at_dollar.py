"""Creates the group at '$': entries written before the group existed are never read.

A kept wrong solution: the tests of this exercise must catch it.

A stream is an append-only log. A **consumer group** shares its entries among consumers: each
entry goes to one consumer of the group, and stays in the group's **pending entries list**
(PEL) until that consumer acknowledges it with ``XACK``. A consumer that dies leaves its
entries pending; another consumer takes them over with ``XAUTOCLAIM`` once they have been idle
long enough. That is at-least-once delivery: nothing is lost, and an entry may be handled twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import redis
from redis.exceptions import ResponseError


@dataclass(frozen=True)
class Entry:
    id: str
    fields: dict[str, str]


@dataclass(frozen=True)
class Pending:
    """The group's pending entries: how many in all, and how many each consumer holds."""

    count: int
    per_consumer: dict[str, int] = field(default_factory=dict)


class StreamGroup:
    """One consumer group on one stream. ``client`` is a ``redis.Redis`` with
    ``decode_responses=True``."""

    def __init__(self, client: redis.Redis, stream: str, group: str) -> None:
        self.client = client
        self.stream = stream
        self.group = group

    def create(self) -> None:
        """Creates the group (and the stream) reading from the very start; idempotent."""
        try:
            self.client.xgroup_create(self.stream, self.group, id="$", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def add(self, fields: Mapping[str, str]) -> str:
        """Appends an entry; returns its id."""
        return str(self.client.xadd(self.stream, cast(Any, dict(fields))))

    def read(self, consumer: str, count: int = 10, block_ms: int | None = None) -> list[Entry]:
        """Up to ``count`` entries never delivered to anyone in the group (``>``)."""
        return self._read(consumer, ">", count, block_ms)

    def read_own_pending(self, consumer: str, count: int = 100) -> list[Entry]:
        """Entries delivered to ``consumer`` earlier and not acknowledged (id ``0``)."""
        return self._read(consumer, "0", count, None)

    def _read(self, consumer: str, start: str, count: int, block_ms: int | None) -> list[Entry]:
        reply: Any = self.client.xreadgroup(
            self.group, consumer, {self.stream: start}, count=count, block=block_ms
        )
        return [_entry(item) for _, items in reply or [] for item in items]

    def ack(self, *entry_ids: str) -> int:
        """Acknowledges entries; returns how many were pending."""
        return int(self.client.xack(self.stream, self.group, *entry_ids)) if entry_ids else 0

    def pending(self) -> Pending:
        """``XPENDING`` summary of the group."""
        summary = self.client.xpending(self.stream, self.group)
        per_consumer = {str(c["name"]): int(c["pending"]) for c in summary["consumers"] or []}
        return Pending(count=int(summary["pending"]), per_consumer=per_consumer)

    def claim_stale(self, consumer: str, min_idle_ms: int, count: int = 100) -> list[Entry]:
        """Takes over every entry pending on any consumer for at least ``min_idle_ms``.

        ``XAUTOCLAIM`` answers a page at a time with a cursor; follow it until it is ``0-0``.
        Entries deleted from the stream while pending are dropped, not returned.
        """
        claimed: list[Entry] = []
        cursor = "0-0"
        while True:
            reply = self.client.xautoclaim(
                self.stream,
                self.group,
                consumer,
                min_idle_time=min_idle_ms,
                start_id=cursor,
                count=count,
            )
            cursor, items = str(reply[0]), reply[1]
            claimed += [_entry(item) for item in items if item[1] is not None]
            if cursor == "0-0":
                return claimed

    def process(
        self, consumer: str, handler: Callable[[Entry], None], count: int = 10
    ) -> list[str]:
        """Reads a batch and hands each entry to ``handler``, acknowledging each one as soon
        as its handler returns. If the handler raises, the exception propagates: that entry
        and the rest of the batch stay pending, as when a consumer dies mid-batch.
        Returns the ids it acknowledged."""
        done: list[str] = []
        for entry in self.read(consumer, count=count):
            handler(entry)
            self.ack(entry.id)
            done.append(entry.id)
        return done


def _entry(item: Any) -> Entry:
    entry_id, fields = item
    return Entry(id=str(entry_id), fields={str(k): str(v) for k, v in (fields or {}).items()})
