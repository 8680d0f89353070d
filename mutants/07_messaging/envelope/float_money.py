"""Converts the v1 total with float: 0.29 euros becomes 28 cents.

A kept wrong solution: the tests of this exercise must catch it.

Lesson 02 (02.7) fixed the wire format of an event: one JSON object with ``event_id``,
``type``, ``version``, ``occurred_at`` and ``payload``, compact, keys sorted, the time in UTC
with microseconds and a ``Z``. This module keeps that format byte for byte and adds what a
consumer in a distributed system needs on top of it:

- a **registry** of the event types it understands, with the current version of each;
- **upcasters**: pure functions that turn the payload of version *v* into version *v + 1*,
  applied in a chain, so the code after ``decode`` only ever sees the current version;
- a **tolerant reader**: envelope fields it does not know (``request_id``, a trace id) are
  ignored, so adding an optional field never breaks an old consumer;
- one exception for everything that can never be processed, ``PoisonMessage``, whose
  ``reason`` goes to the dead letter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

ENVELOPE_FIELDS = ("event_id", "type", "version", "occurred_at", "payload")
ORDER_PLACED = "order.placed"
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
_MONEY = re.compile(r"\d+(\.\d{1,2})?")


@dataclass(frozen=True)
class Event:
    event_id: UUID
    type: str
    version: int
    occurred_at: datetime
    payload: dict[str, Any]


class PoisonMessage(ValueError):
    """A message that can never be processed, however often it is retried.

    ``reason`` says why, for the dead letter and for the person who reads it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def format_timestamp(value: datetime) -> str:
    """UTC, ISO 8601, always with microseconds and a Z (as lesson 02)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


def encode(event: Event) -> bytes:
    """The envelope as lesson 02 writes it: compact JSON, keys sorted, UTC time with a Z."""
    wire = {
        "event_id": str(event.event_id),
        "type": event.type,
        "version": event.version,
        "occurred_at": format_timestamp(event.occurred_at),
        "payload": event.payload,
    }
    return orjson.dumps(wire, option=orjson.OPT_SORT_KEYS)


class Registry:
    """The event types a consumer understands, their current versions and their upcasters."""

    def __init__(self) -> None:
        self._current: dict[str, int] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def add_type(self, type: str, current_version: int) -> None:
        """Declares an event type and the version the consumer's code works with."""
        if isinstance(current_version, bool) or not isinstance(current_version, int):
            raise TypeError(f"current_version must be an int, got {current_version!r}")
        if current_version < 1:
            raise ValueError(f"current_version must be at least 1, got {current_version}")
        self._current[type] = current_version

    def upcaster(self, type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: registers ``fn`` as the step from ``from_version`` to ``from_version + 1``."""

        def register(fn: Upcaster) -> Upcaster:
            self._upcasters[(type, from_version)] = fn
            return fn

        return register

    def current_version(self, type: str) -> int:
        try:
            return self._current[type]
        except KeyError:
            raise PoisonMessage(f"unknown event type {type!r}") from None

    def upcast(self, event: Event) -> Event:
        """The event at its type's current version; the input event is left unchanged."""
        current = self.current_version(event.type)
        if event.version > current:
            raise PoisonMessage(
                f"unknown version {event.version} of {event.type!r}: "
                f"this consumer knows versions 1 to {current}"
            )
        payload = event.payload
        for version in range(event.version, current):
            step = self._upcasters.get((event.type, version))
            if step is None:
                raise PoisonMessage(
                    f"unknown version {event.version} of {event.type!r}: "
                    f"no upcaster from version {version} to {version + 1}"
                )
            payload = step(dict(payload))  # a copy: the caller's event stays as it was
            if not isinstance(payload, dict):
                raise TypeError(f"the upcaster from version {version} must return a dict")
        return replace(event, version=current, payload=payload)


def decode(data: bytes | str, registry: Registry) -> Event:
    """Parses an envelope and upcasts it to the current version of its type.

    Raises PoisonMessage, whose reason starts with ``not valid JSON``, ``not an envelope``,
    ``unknown event type`` or ``unknown version``.
    """
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise PoisonMessage(f"not valid JSON ({error})") from None
    if not isinstance(raw, dict):
        raise PoisonMessage(f"not an envelope: expected a JSON object, got {type(raw).__name__}")
    missing = [name for name in ENVELOPE_FIELDS if name not in raw]
    if missing:
        raise PoisonMessage(f"not an envelope: missing {', '.join(missing)}")
    event = Event(
        event_id=_event_id(raw["event_id"]),
        type=_event_type(raw["type"]),
        version=_version(raw["version"]),
        occurred_at=_timestamp(raw["occurred_at"]),
        payload=_payload(raw["payload"]),
    )
    return registry.upcast(event)


def _event_id(value: object) -> UUID:
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    raise _bad("event_id", value)


def _event_type(value: object) -> str:
    if isinstance(value, str) and value:
        return value
    raise _bad("type", value)


def _version(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise _bad("version", value)


def _timestamp(value: object) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.utcoffset() is not None:
                return parsed.astimezone(UTC)
    raise _bad("occurred_at", value)


def _payload(value: object) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise _bad("payload", value)


def _bad(field: str, value: object) -> PoisonMessage:
    return PoisonMessage(f"not an envelope: bad {field} {value!r}")


# -- the shop's order.placed event, versions 1 and 2 ---------------------------------------


def order_placed_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 ``{"order_id", "user_id", "total": "12.50"}`` (euros, a decimal string) becomes
    v2 ``{"order_id", "user_id", "total": {"amount_cents": 1250, "currency": "EUR"}}``."""
    total = payload.get("total")
    if not isinstance(total, str) or not _MONEY.fullmatch(total):
        raise PoisonMessage(f"order.placed v1 has a bad total {total!r}: expected '12.50'")
    cents = int(float(total) * 100)  # exact: Decimal, never float, for money
    return {**payload, "total": {"amount_cents": cents, "currency": "EUR"}}


def order_events() -> Registry:
    """The registry of the shop's consumers: ``order.placed`` is at version 2."""
    registry = Registry()
    registry.add_type(ORDER_PLACED, 2)
    registry.upcaster(ORDER_PLACED, 1)(order_placed_v1_to_v2)
    return registry
