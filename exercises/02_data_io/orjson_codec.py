"""02.5 — An orjson serializer for dataclasses, datetimes and Decimal.

orjson is a fast JSON library: it writes dataclasses, UUIDs and datetimes by itself and
returns ``bytes``. What it cannot guess is *your* policy for the rest:

- ``Decimal`` (money) is written as a **string**, so every digit survives: ``"9.90"``;
- datetimes are written in **UTC**, ISO 8601, always with microseconds and a ``Z``:
  ``"2025-01-02T03:04:05.000000Z"``; a naive datetime is refused;
- dict keys are sorted (dataclass fields keep their declared order), so equal
  objects always give equal bytes.

And JSON coming back is only dicts, lists, strings and numbers: ``order_placed_from_json``
rebuilds the typed ``OrderPlaced`` event and refuses anything malformed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

import orjson

# orjson would format datetimes itself; passing them through lets `default` make them UTC.
# Sorted dict keys make the bytes deterministic (dataclasses keep their field order).
DUMPS_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_SORT_KEYS


@dataclass(frozen=True)
class LineItem:
    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class OrderPlaced:
    order_id: UUID
    customer_id: str
    items: tuple[LineItem, ...]
    placed_at: datetime


class DecodeError(ValueError):
    """The JSON is not a valid OrderPlaced; the message names the field at fault."""


def format_datetime(value: datetime) -> str:
    """An aware datetime as UTC ISO 8601 with microseconds and a ``Z``.

    ``datetime(2025, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))`` ->
    ``"2025-01-02T03:04:05.000000Z"``. A naive datetime raises TypeError.
    (``isoformat(timespec="microseconds")`` gives ``...+00:00``: swap that for ``Z``.)
    """
    raise NotImplementedError("02.5: convert to UTC and format with microseconds and Z")


def default(obj: object) -> object:
    """The ``default`` hook for orjson: called for every object orjson cannot write itself.

    - ``Decimal`` -> ``str(obj)`` (``Decimal("9.90")`` -> ``"9.90"``); NaN or Infinity
      raise TypeError (not an amount).
    - ``datetime`` -> ``format_datetime(obj)``.
    - anything else -> raise TypeError naming the type, e.g. "set" for ``{1, 2}`` (orjson
      turns it into its JSONEncodeError, a TypeError subclass).
    """
    raise NotImplementedError("02.5: Decimal -> str, datetime -> UTC ISO string, else TypeError")


def dumps(obj: object) -> bytes:
    """Serializes ``obj`` (dataclasses, UUIDs, datetimes, Decimals, plain JSON) to JSON bytes:
    ``orjson.dumps`` with ``default`` and ``DUMPS_OPTIONS``. Compact; dict keys sorted,
    dataclass fields in declared order: ``b'{"sku":"A-1","quantity":2,"unit_price":"9.90"}'``."""
    raise NotImplementedError("02.5: orjson.dumps with your default hook and DUMPS_OPTIONS")


def order_placed_from_json(data: bytes | str) -> OrderPlaced:
    """Parses what ``dumps(OrderPlaced(...))`` produced, checking every field.

    ``order_placed_from_json(dumps(event)) == event`` for every valid event. Raise
    DecodeError, with the field's path in the message, for:

    - invalid JSON, or a top level that is not an object;
    - missing or unknown fields (in the event or in a line item): ``"items[0].sku: missing"``;
    - ``order_id`` not a UUID string; ``customer_id`` / ``sku`` not a non-empty string;
    - ``items`` not a list; an item not an object;
      ``quantity`` not a positive integer (``true`` is not a quantity);
    - ``unit_price`` not a string holding a finite decimal: a JSON *number* is refused too,
      because it has already been through a float and may not be exact;
    - ``placed_at`` not an ISO 8601 string, or one without a time zone.

    ``items`` becomes a tuple of LineItem; ``placed_at`` is returned in UTC.
    """
    raise NotImplementedError("02.5: orjson.loads, then check and convert every field")
