"""Declares Event as a plain dataclass: an event can be changed after it was made.

02.9 — Event envelopes, stage 2: JSON (de)serialization with orjson (capstone piece).

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
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

from .event_json import INT_MAX, INT_MIN, EventError, check_json, format_timestamp, parse_timestamp

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


@dataclass
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
    """A new event with a fresh id, stamped now (UTC), after checking every part."""
    occurred_at = clock()
    event = Event(
        event_id=id_factory(),
        type=type,
        version=version,
        occurred_at=occurred_at,
        payload=dict(payload),
    )
    _validate(event)
    # store the instant in UTC, as decode() gives it back: equal events compare equal
    return replace(event, occurred_at=occurred_at.astimezone(UTC))


def encode(event: Event) -> bytes:
    """The event as compact JSON bytes with sorted keys; the same event gives the same bytes."""
    _validate(event)
    wire = {
        "event_id": str(event.event_id),
        "type": event.type,
        "version": event.version,
        "occurred_at": format_timestamp(event.occurred_at),
        "payload": event.payload,
    }
    return orjson.dumps(wire, option=orjson.OPT_SORT_KEYS)


def decode(data: bytes | str) -> Event:
    """Parses and checks an envelope; any problem is an EventError that names its field."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise EventError(f"not valid JSON ({error})") from None
    if not isinstance(raw, dict):
        raise EventError(f"an event must be a JSON object, got {_json_type(raw)}")
    missing = [name for name in ENVELOPE_FIELDS if name not in raw]
    if missing:
        raise EventError(f"missing field(s): {', '.join(missing)}")
    unknown = sorted(set(raw) - set(ENVELOPE_FIELDS))
    if unknown:
        raise EventError(f"unknown field(s): {', '.join(unknown)}")

    event = Event(
        event_id=_parse_uuid(raw["event_id"]),
        type=raw["type"],
        version=raw["version"],
        occurred_at=parse_timestamp(raw["occurred_at"], "occurred_at"),
        payload=raw["payload"],
    )
    _validate(event)
    return event


def _validate(event: Event) -> None:
    if not isinstance(event.event_id, UUID):
        raise EventError("must be a UUID", field="event_id")
    if not isinstance(event.type, str) or not EVENT_TYPE.fullmatch(event.type):
        raise EventError(
            f"must be dotted lowercase words such as 'order.placed', got {event.type!r}",
            field="type",
        )
    version = event.version
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise EventError(f"must be an integer from 1 up, got {version!r}", field="version")
    occurred_at = event.occurred_at
    if not isinstance(occurred_at, datetime) or occurred_at.utcoffset() is None:
        raise EventError("must be a timezone-aware datetime", field="occurred_at")
    if not isinstance(event.payload, dict):
        raise EventError(f"must be a JSON object, got {_json_type(event.payload)}", field="payload")
    check_json(event.payload, "payload")


def _parse_uuid(value: object) -> UUID:
    if not isinstance(value, str):
        raise EventError(f"must be a UUID string, got {_json_type(value)}", field="event_id")
    try:
        return UUID(value)
    except ValueError:
        raise EventError(f"{value!r} is not a UUID", field="event_id") from None


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    if isinstance(value, bool | dict | list | str) or value is None:
        return names[type(value)]
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__
