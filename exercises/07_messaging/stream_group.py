"""07.3 — a Redis Streams consumer group: read, acknowledge, inspect, reclaim.

A stream is an append-only log. A **consumer group** shares its entries among consumers: each
entry goes to one consumer of the group, and stays in the group's **pending entries list**
(PEL) until that consumer acknowledges it with ``XACK``. A consumer that dies leaves its
entries pending; another consumer takes them over with ``XAUTOCLAIM`` once they have been idle
long enough. That is at-least-once delivery: nothing is lost, and an entry may be handled twice.

The redis-py calls you need: ``xgroup_create``, ``xadd``, ``xreadgroup``, ``xack``,
``xpending``, ``xautoclaim``. The client has ``decode_responses=True``: ids and fields are str.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import redis


@dataclass(frozen=True)
class Entry:
    id: str
    fields: dict[str, str]


@dataclass(frozen=True)
class Pending:
    """The group's pending entries: how many in all, and how many each consumer holds
    (consumers with none are not listed)."""

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
        """Creates the group, and the stream if it does not exist, so that the group reads
        from the very first entry (id ``0``, not ``$``). Calling it again is fine (Redis
        answers BUSYGROUP: ignore that error, and only that one)."""
        raise NotImplementedError("07.3: XGROUP CREATE ... 0 MKSTREAM, BUSYGROUP is fine")

    def add(self, fields: Mapping[str, str]) -> str:
        """Appends an entry (``XADD``); returns its id."""
        raise NotImplementedError("07.3: XADD")

    def read(self, consumer: str, count: int = 10, block_ms: int | None = None) -> list[Entry]:
        """Up to ``count`` entries never delivered to anyone in the group (id ``>``), as
        ``Entry`` objects in stream order; ``[]`` when there are none. ``block_ms``: how long
        to wait for one (None: do not wait)."""
        raise NotImplementedError("07.3: XREADGROUP with '>'")

    def read_own_pending(self, consumer: str, count: int = 100) -> list[Entry]:
        """Entries delivered to ``consumer`` earlier and not acknowledged (``XREADGROUP``
        with id ``0``): what a restarted consumer must finish first."""
        raise NotImplementedError("07.3: XREADGROUP with '0'")

    def ack(self, *entry_ids: str) -> int:
        """Acknowledges entries; returns how many were pending (0 for none given)."""
        raise NotImplementedError("07.3: XACK")

    def pending(self) -> Pending:
        """``XPENDING`` summary of the group."""
        raise NotImplementedError("07.3: XPENDING stream group")

    def claim_stale(self, consumer: str, min_idle_ms: int, count: int = 100) -> list[Entry]:
        """Takes over, for ``consumer``, every entry pending on any consumer for at least
        ``min_idle_ms`` milliseconds, and returns them in stream order.

        ``XAUTOCLAIM`` answers one page of at most ``count`` entries and a cursor: call it
        again from that cursor until the cursor is ``0-0``. Entries deleted from the stream
        while pending are dropped, not returned. Entries idle for less are left alone: their
        consumer may just be busy.
        """
        raise NotImplementedError("07.3: XAUTOCLAIM in a loop until the cursor is 0-0")

    def process(
        self, consumer: str, handler: Callable[[Entry], None], count: int = 10
    ) -> list[str]:
        """Reads a batch of new entries and hands each to ``handler``, acknowledging each one
        as soon as its handler returns (never the whole batch up front).

        If the handler raises, the exception propagates: that entry and the rest of the
        batch stay pending, as when a consumer dies in the middle of a batch. Returns the ids
        it acknowledged, in order.
        """
        raise NotImplementedError("07.3: read, then handler + ack one entry at a time")
