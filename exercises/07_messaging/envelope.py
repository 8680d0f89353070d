"""07.1 — a versioned event envelope with upcasting.

Lesson 02 (02.7) fixed the wire format of an event: one JSON object with ``event_id``,
``type``, ``version``, ``occurred_at`` and ``payload``::

    {"event_id":"6f1c...","occurred_at":"2025-01-02T03:04:05.000600Z",
     "payload":{"order_id":"o-1","total":"12.50","user_id":"u-1"},"type":"order.placed","version":1}

compact (no spaces), keys sorted, the time in UTC with microseconds and a ``Z``. Keep that
format byte for byte (``encode``): old and new services must read each other. On top of it,
build what a consumer in a distributed system needs:

- a **registry** of the event types it understands, with the current version of each;
- **upcasters**: pure functions that turn the payload of version *v* into version *v + 1*,
  applied in a chain, so the code after ``decode`` only ever sees the current version;
- a **tolerant reader**: envelope fields it does not know (``request_id``, a trace id) are
  ignored, so adding an optional field never breaks an old consumer;
- one exception for everything that can never be processed, ``PoisonMessage``, whose
  ``reason`` goes to the dead letter.

The shop's ``order.placed`` event changed shape once:

- v1 payload: ``{"order_id": "o-1", "user_id": "u-1", "total": "12.50"}`` (euros, as a
  decimal string with at most two decimals);
- v2 payload: ``{"order_id": "o-1", "user_id": "u-1",
  "total": {"amount_cents": 1250, "currency": "EUR"}}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

ENVELOPE_FIELDS = ("event_id", "type", "version", "occurred_at", "payload")
ORDER_PLACED = "order.placed"
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Event:
    event_id: UUID
    type: str
    version: int
    occurred_at: datetime
    payload: dict[str, Any]


class PoisonMessage(ValueError):
    """A message that can never be processed, however often it is retried.

    ``reason`` says why, for the dead letter and for the person who reads it. (Given: the
    other exercises of this lesson use it too.)
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def format_timestamp(value: datetime) -> str:
    """UTC, ISO 8601, always with microseconds and a Z (as lesson 02). Given."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


def encode(event: Event) -> bytes:
    """The envelope exactly as lesson 02 writes it: compact JSON with sorted keys
    (``orjson.dumps(..., option=orjson.OPT_SORT_KEYS)``), the event id as a string, the time
    with ``format_timestamp``."""
    raise NotImplementedError("07.1: build the five-field dict and orjson.dumps it, keys sorted")


class Registry:
    """The event types a consumer understands, their current versions and their upcasters.

    ::

        registry = Registry()
        registry.add_type("order.placed", 2)

        @registry.upcaster("order.placed", 1)  # from version 1 to version 2
        def v1_to_v2(payload: dict) -> dict: ...
    """

    def __init__(self) -> None:
        self._current: dict[str, int] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def add_type(self, type: str, current_version: int) -> None:
        """Declares an event type and the version the consumer's code works with.

        ValueError (message with "at least 1") when ``current_version`` is below 1.
        """
        raise NotImplementedError("07.1: check the version, remember it")

    def upcaster(self, type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: registers ``fn`` as the step from ``from_version`` to ``from_version + 1``
        and returns ``fn`` unchanged."""
        raise NotImplementedError("07.1: return a function that stores fn and returns it")

    def current_version(self, type: str) -> int:
        """The current version of ``type``; PoisonMessage("unknown event type ...") if the
        type was never added."""
        raise NotImplementedError("07.1: look the type up")

    def upcast(self, event: Event) -> Event:
        """The event at its type's current version.

        Applies the upcasters one step at a time, oldest first (v1 -> v2 -> v3), each to a
        copy of the payload: the ``event`` passed in must not change. Only ``version`` and
        ``payload`` change. PoisonMessage with a reason that starts with ``unknown version``
        (and names the version and the type) when the event's version is above the current
        one, or when a step has no upcaster; ``unknown event type`` for a type never added.
        """
        raise NotImplementedError("07.1: walk from event.version to the current version")


def decode(data: bytes | str, registry: Registry) -> Event:
    """Parses an envelope and upcasts it to the current version of its type.

    Every problem is a PoisonMessage whose reason starts with:

    - ``not valid JSON``: the bytes do not parse;
    - ``not an envelope``: not a JSON object, a missing field, an ``event_id`` that is not a
      UUID string, a ``type`` that is not a non-empty string, a ``version`` that is not an
      integer from 1 up (``True`` and ``"1"`` are not integers), an ``occurred_at`` that is
      not an ISO 8601 string with a time zone, a ``payload`` that is not an object;
    - ``unknown event type`` / ``unknown version``: from the registry.

    Envelope fields beyond the five are ignored. ``occurred_at`` comes back in UTC.
    """
    raise NotImplementedError("07.1: parse with orjson, check the five fields, registry.upcast")


def order_placed_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """The upcaster of ``order.placed`` from v1 to v2 (see the module docstring).

    The v1 total is a string of digits with at most two decimals ("12.50", "12.5", "7");
    convert it exactly, with Decimal (never float: 0.29 must give 29 cents). Anything else
    (a number, a negative amount, three decimals, not a string) is PoisonMessage.
    """
    raise NotImplementedError("07.1: check the total, convert it to cents with Decimal")


def order_events() -> Registry:
    """The registry of the shop's consumers: ``order.placed`` at version 2, with the
    v1 -> v2 upcaster."""
    raise NotImplementedError("07.1: add the type and register the upcaster")
