"""02.9 — Event envelopes, stage 2: JSON (de)serialization with orjson (capstone piece).

Services that talk through events need one agreed wire format. Every event travels in the same
*envelope*; only the payload differs::

    {"event_id": "6f1c...-...", "occurred_at": "2025-01-02T03:04:05.000000Z",
     "payload": {"order_id": "...", "total": "19.80"}, "type": "order.placed", "version": 1}

- ``event_id``: a UUID, so a consumer can drop duplicates;
- ``type``: dotted lowercase words (``order.placed``), so a consumer can route it;
- ``version``: an integer from 1 up, bumped when the payload's shape changes;
- ``occurred_at``: when it happened, UTC, ISO 8601 with microseconds and a ``Z``;
- ``payload``: a JSON object.

The round trip is exact: ``decode(encode(event)) == event``, and encoding is deterministic
(compact, keys sorted), so ``encode(decode(encode(e))) == encode(e)``. That is why ``encode``
accepts only payload values that JSON gives back unchanged (02.8's ``check_json``): a
Decimal, a tuple, a datetime or a UUID in a payload is refused: send money and times as
strings. Timestamps are written and read with 02.8's ``format_timestamp`` and
``parse_timestamp``. An Event is frozen: once made, nobody can change it on its way.

In the capstone, the orders service writes these envelopes to its outbox and the notifier
decodes them from the Redis stream.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from .event_json import (  # noqa: F401 (02.8's functions, for you to use in the bodies)
    INT_MAX,
    INT_MIN,
    EventError,
    check_json,
    format_timestamp,
    parse_timestamp,
)

ENVELOPE_FIELDS = ("event_id", "type", "version", "occurred_at", "payload")
EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
__all__ = [
    "ENVELOPE_FIELDS",
    "EVENT_TYPE",
    "INT_MAX",
    "INT_MIN",
    "Event",
    "EventError",
    "decode",
    "encode",
    "format_timestamp",
    "new_event",
    "parse_timestamp",
]


@dataclass(frozen=True)
class Event:
    event_id: UUID
    type: str
    version: int
    occurred_at: datetime
    payload: dict[str, Any]


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_event(
    type: str,
    payload: Mapping[str, Any],
    *,
    version: int = 1,
    clock: Callable[[], datetime] = utc_now,
    id_factory: Callable[[], UUID] = uuid.uuid4,
) -> Event:
    """A new event: id from ``id_factory()``, ``occurred_at`` from ``clock()`` converted to
    UTC, ``payload`` copied into a dict. It is checked exactly as ``encode`` checks it, so a
    bad type, version, naive clock or payload raises EventError at once, not later."""
    raise NotImplementedError("02.9: build an Event and validate it")


def encode(event: Event) -> bytes:
    """The event as compact JSON bytes with sorted keys (``orjson.OPT_SORT_KEYS``).

    Check the event first and raise EventError, with ``field`` set, when:

    - ``event_id`` is not a UUID (field ``"event_id"``);
    - ``type`` does not match EVENT_TYPE (field ``"type"``);
    - ``version`` is not an int >= 1 (a bool is not a version) (field ``"version"``);
    - ``occurred_at`` is not a timezone-aware datetime (field ``"occurred_at"``);
    - ``payload`` is not a dict (field ``"payload"``), or holds anything that would not
      come back from JSON unchanged: 02.8's ``check_json(payload, "payload")`` raises then,
      with ``field`` the path to the value (``"payload.items[1].price"``).
    ``occurred_at`` is written with 02.8's ``format_timestamp``.
    """
    raise NotImplementedError("02.9: validate the event, then orjson.dumps the envelope")


def decode(data: bytes | str) -> Event:
    """Parses and checks an envelope; any problem is an EventError that says what is wrong.

    - not valid JSON: EventError (``field`` None), message mentions JSON;
    - not a JSON object: EventError (``field`` None);
    - missing fields: one EventError naming *all* of them; unknown fields: likewise;
    - then the same checks as ``encode``, with ``field`` set: ``event_id`` must be a UUID
      string (message mentions "UUID"), ``occurred_at`` an ISO 8601 string *with* a time
      zone, read with 02.8's ``parse_timestamp`` (returned in UTC), ``version`` an int >= 1
      (message mentions "integer"), ``type`` matching EVENT_TYPE (message shows an example,
      "order.placed"), ``payload`` a JSON object (message mentions "object").
    """
    raise NotImplementedError("02.9: orjson.loads, check the envelope, build the Event")
