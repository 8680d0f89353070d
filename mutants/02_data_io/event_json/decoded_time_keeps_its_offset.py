"""Returns a parsed time in the offset it was written with (+02:00) instead of in UTC.

02.8 — Event envelopes, stage 1: values that survive a JSON round trip (core).

An event travels as JSON and must come back exactly as it left: ``decode(encode(e)) == e``
(stage 2, 02.9). Two parts of that promise are about single values, and they are this stage:

- **timestamps**: one spelling per instant, always UTC, ISO 8601, with microseconds and a
  ``Z`` (``"2025-01-02T03:04:05.000000Z"``); reading one back accepts any offset and returns
  the same instant in UTC, and refuses a time without a zone (it has no fixed meaning);
- **payload values**: only what JSON gives back unchanged: dict (string keys), list, str, int
  (within INT_MIN..INT_MAX, what orjson writes), finite float, bool and None. A Decimal, a
  tuple (comes back as a list), a datetime, a UUID, NaN or a dict with an int key is refused,
  with the *path* to the value: ``payload.items[1].price``.

Every problem is an ``EventError`` whose ``field`` names where it is.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

INT_MIN, INT_MAX = -(2**63), 2**64 - 1  # what orjson can write as a JSON integer


class EventError(ValueError):
    """An event that cannot be encoded or decoded. ``field`` names the part at fault, and the
    message starts with it: ``"payload.total: Decimal is not a JSON value ..."``. (Given.)"""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


def format_timestamp(value: datetime, field: str = "occurred_at") -> str:
    """UTC, ISO 8601, always with microseconds and a Z: one spelling per instant.

    ``datetime(2025, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))`` ->
    ``"2025-01-02T03:04:05.000000Z"``. A naive datetime has no fixed meaning: EventError with
    ``field`` set, whose message says it must be timezone-"aware".
    """
    if value.utcoffset() is None:
        raise EventError("must be a timezone-aware datetime", field=field)
    return value.astimezone(UTC).isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


def parse_timestamp(value: object, field: str = "occurred_at") -> datetime:
    """The instant in an ISO 8601 string, returned in UTC.

    Any offset is accepted (``Z``, ``+02:00``). EventError with ``field`` set when: ``value``
    is not a string (message mentions "ISO 8601"); the string is not ISO 8601 (message
    mentions "ISO 8601"); it has no time zone (message mentions "time zone").
    """
    if not isinstance(value, str):
        raise EventError(f"must be an ISO 8601 string, got {type(value).__name__}", field=field)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise EventError(f"{value!r} is not an ISO 8601 timestamp", field=field) from None
    if parsed.utcoffset() is None:
        raise EventError(f"{value!r} has no time zone (expected a trailing Z)", field=field)
    return parsed


def check_json(value: object, path: str = "payload") -> None:
    """Returns None if ``value`` comes back from JSON exactly as it went in; otherwise raises
    EventError whose ``field`` is the path to the first value at fault.

    The path grows like Python code that reaches the value: ``payload.items[1].price`` for
    ``{"items": [..., {"price": Decimal("2")}]}`` checked at ``"payload"``. A dict with a key
    that is not a str is refused at the dict's own path. Refused: non-string keys, ints
    outside INT_MIN..INT_MAX, NaN and infinities, and every type other than dict, list, str,
    int, float, bool and None (tuples too: they come back as lists).
    """
    if value is None or isinstance(value, str | bool):
        return
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise EventError("integer too large for JSON; send it as a string", field=path)
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EventError(f"{value} has no JSON form", field=path)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise EventError(f"object keys must be strings, got {key!r}", field=path)
            check_json(item, f"{path}.{key}")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            check_json(item, f"{path}[{index}]")
        return
    hint = " (send money as a decimal string)" if type(value).__name__ == "Decimal" else ""
    raise EventError(
        f"{type(value).__name__} is not a JSON value and would not come back as one{hint}",
        field=path,
    )
