"""Keeps the caller's payload dict instead of a copy: changing it later changes the event.

02.7 — JSON (de)serialization of event envelopes with orjson (reference solution).

The capstone's orders service writes these envelopes to its outbox, and the notifier decodes
them from the Redis stream.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

ENVELOPE_FIELDS = ("event_id", "type", "version", "occurred_at", "payload")
EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
INT_MIN, INT_MAX = -(2**63), 2**64 - 1  # what orjson can write as a JSON integer


@dataclass(frozen=True)
class Event:
    event_id: UUID
    type: str
    version: int
    occurred_at: datetime
    payload: dict[str, Any]


class EventError(ValueError):
    """An event that cannot be encoded or decoded. ``field`` names the part at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


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
        payload=payload,  # type: ignore[arg-type]
    )
    _validate(event)
    # store the instant in UTC, as decode() gives it back: equal events compare equal
    return replace(event, occurred_at=occurred_at.astimezone(UTC))


def format_timestamp(value: datetime) -> str:
    """UTC, ISO 8601, always with microseconds and a Z: one spelling per instant."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


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
        occurred_at=_parse_timestamp(raw["occurred_at"]),
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
    _check_json(event.payload, "payload")


def _check_json(value: object, where: str) -> None:
    """Only values that come back from JSON exactly as they went in: the round trip is exact."""
    if value is None or isinstance(value, (str, bool)):
        return
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise EventError("integer too large for JSON; send it as a string", field=where)
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EventError(f"{value} has no JSON form", field=where)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise EventError(f"object keys must be strings, got {key!r}", field=where)
            _check_json(item, f"{where}.{key}")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{where}[{index}]")
        return
    hint = " (send money as a decimal string)" if type(value).__name__ == "Decimal" else ""
    raise EventError(
        f"{type(value).__name__} is not a JSON value and would not come back as one{hint}",
        field=where,
    )


def _parse_uuid(value: object) -> UUID:
    if not isinstance(value, str):
        raise EventError(f"must be a UUID string, got {_json_type(value)}", field="event_id")
    try:
        return UUID(value)
    except ValueError:
        raise EventError(f"{value!r} is not a UUID", field="event_id") from None


def _parse_timestamp(value: object) -> datetime:
    if not isinstance(value, str):
        raise EventError(
            f"must be an ISO 8601 string, got {_json_type(value)}", field="occurred_at"
        )
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise EventError(f"{value!r} is not an ISO 8601 timestamp", field="occurred_at") from None
    if parsed.utcoffset() is None:
        raise EventError(f"{value!r} has no time zone (expected a trailing Z)", field="occurred_at")
    return parsed.astimezone(UTC)


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    if isinstance(value, bool | dict | list | str) or value is None:
        return names[type(value)]
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__
