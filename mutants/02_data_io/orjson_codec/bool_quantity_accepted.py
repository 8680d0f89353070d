"""Accepts true as a quantity of 1 (bool is an int).

02.5 — An orjson serializer for dataclasses, datetimes and Decimal (reference solution)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
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
    """An aware datetime as UTC ISO 8601 with microseconds and a ``Z``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise TypeError(f"naive datetime {value.isoformat()} has no time zone; refusing to guess")
    text = value.astimezone(UTC).isoformat(timespec="microseconds")
    return text.removesuffix("+00:00") + "Z"


def default(obj: object) -> object:
    """The ``default`` hook for orjson: types orjson does not serialize the way we want."""
    if isinstance(obj, Decimal):
        # A string keeps every digit and trailing zero; a float would turn 0.1 into 0.1000...0555
        if not obj.is_finite():
            raise TypeError(f"{obj} is not a finite amount")
        return str(obj)
    if isinstance(obj, datetime):
        return format_datetime(obj)
    raise TypeError(f"cannot serialize {type(obj).__name__} to JSON")


def dumps(obj: object) -> bytes:
    """Serializes ``obj`` (dataclasses, UUIDs, datetimes, Decimals, plain JSON) to JSON bytes."""
    return orjson.dumps(obj, default=default, option=DUMPS_OPTIONS)


def order_placed_from_json(data: bytes | str) -> OrderPlaced:
    """Parses what ``dumps(OrderPlaced(...))`` produced, checking every field."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise DecodeError(f"not valid JSON: {error}") from None
    obj = _object(raw, "OrderPlaced")
    _exact_keys(obj, {"order_id", "customer_id", "items", "placed_at"}, "")
    items = obj["items"]
    if not isinstance(items, list):
        raise DecodeError("items: must be a list")
    return OrderPlaced(
        order_id=_uuid(obj["order_id"], "order_id"),
        customer_id=_string(obj["customer_id"], "customer_id"),
        items=tuple(_line_item(item, f"items[{i}]") for i, item in enumerate(items)),
        placed_at=_datetime(obj["placed_at"], "placed_at"),
    )


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DecodeError(f"{where}: must be a JSON object, got {type(value).__name__}")
    return value


def _exact_keys(obj: dict[str, Any], wanted: set[str], prefix: str) -> None:
    missing = sorted(wanted - obj.keys())
    unknown = sorted(obj.keys() - wanted)
    if missing:
        raise DecodeError(", ".join(f"{prefix}{k}: missing" for k in missing))
    if unknown:
        raise DecodeError(", ".join(f"{prefix}{k}: unknown field" for k in unknown))


def _line_item(value: object, where: str) -> LineItem:
    obj = _object(value, where)
    _exact_keys(obj, {"sku", "quantity", "unit_price"}, f"{where}.")
    quantity = obj["quantity"]
    if not isinstance(quantity, int) or quantity < 1:
        raise DecodeError(f"{where}.quantity: must be a positive integer, got {quantity!r}")
    return LineItem(
        sku=_string(obj["sku"], f"{where}.sku"),
        quantity=quantity,
        unit_price=_decimal(obj["unit_price"], f"{where}.unit_price"),
    )


def _string(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise DecodeError(f"{where}: must be a non-empty string, got {value!r}")
    return value


def _uuid(value: object, where: str) -> UUID:
    try:
        return UUID(_string(value, where))
    except ValueError:
        raise DecodeError(f"{where}: must be a UUID, got {value!r}") from None


def _decimal(value: object, where: str) -> Decimal:
    # A JSON number has already been through a float: only a string is exact.
    if not isinstance(value, str):
        raise DecodeError(f'{where}: must be a decimal string such as "9.90", got {value!r}')
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise DecodeError(f"{where}: {value!r} is not a decimal number") from None
    if not amount.is_finite():
        raise DecodeError(f"{where}: {value!r} is not a finite amount")
    return amount


def _datetime(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise DecodeError(f"{where}: must be an ISO 8601 string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise DecodeError(f"{where}: {value!r} is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise DecodeError(f"{where}: {value!r} has no time zone (expected a trailing Z)")
    return parsed.astimezone(UTC)
