"""02.5 — An orjson serializer for dataclasses, datetimes and Decimal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from journey.targets import load

codec = load(__file__, "orjson_codec")

ORDER_ID = UUID("12345678-1234-5678-1234-567812345678")
PLUS_TWO = timezone(timedelta(hours=2))


def make_order():
    return codec.OrderPlaced(
        order_id=ORDER_ID,
        customer_id="c-17",
        items=(
            codec.LineItem("A-1", 2, Decimal("9.90")),
            codec.LineItem("B-2", 1, Decimal("0.1")),
        ),
        placed_at=datetime(2025, 1, 2, 5, 4, 5, 120000, tzinfo=PLUS_TWO),
    )


def test_format_datetime_is_utc_with_microseconds_and_z():
    got = codec.format_datetime(datetime(2025, 1, 2, 5, 4, 5, tzinfo=PLUS_TWO))
    assert got == "2025-01-02T03:04:05.000000Z", "converted to UTC, microseconds always, and Z"


def test_format_datetime_refuses_naive():
    with pytest.raises(TypeError):
        codec.format_datetime(datetime(2025, 1, 2))


def test_default_hook():
    assert codec.default(Decimal("9.90")) == "9.90", "a Decimal becomes its exact string"
    assert codec.default(datetime(2025, 1, 2, tzinfo=UTC)) == "2025-01-02T00:00:00.000000Z"
    with pytest.raises(TypeError, match="set"):
        codec.default({1, 2})
    with pytest.raises(TypeError):
        codec.default(Decimal("NaN"))


def test_dumps_writes_exact_compact_sorted_json():
    got = codec.dumps(codec.LineItem("A-1", 2, Decimal("9.90")))
    assert isinstance(got, bytes), "orjson returns bytes"
    assert got == b'{"sku":"A-1","quantity":2,"unit_price":"9.90"}', (
        "compact, dataclass fields in their declared order, Decimal as an exact string"
    )
    assert codec.dumps({"b": 1, "a": [Decimal("0.10")]}) == b'{"a":["0.10"],"b":1}', (
        "dict keys are sorted (OPT_SORT_KEYS), so equal dicts give equal bytes"
    )


def test_dumps_a_whole_event():
    data = json.loads(codec.dumps(make_order()))
    assert data == {
        "customer_id": "c-17",
        "items": [
            {"quantity": 2, "sku": "A-1", "unit_price": "9.90"},
            {"quantity": 1, "sku": "B-2", "unit_price": "0.1"},
        ],
        "order_id": str(ORDER_ID),
        "placed_at": "2025-01-02T03:04:05.120000Z",
    }


def test_dumps_nested_in_plain_structures():
    data = json.loads(
        codec.dumps({"when": [datetime(2025, 1, 1, tzinfo=UTC)], "n": Decimal("1E+3")})
    )
    assert data == {"n": "1E+3", "when": ["2025-01-01T00:00:00.000000Z"]}


def test_dumps_refuses_naive_datetimes_and_unknown_types():
    with pytest.raises(TypeError):
        codec.dumps({"at": datetime(2025, 1, 2)})
    with pytest.raises(TypeError):
        codec.dumps({"x": object()})


def test_round_trip_is_exact():
    order = make_order()
    back = codec.order_placed_from_json(codec.dumps(order))
    assert back == order, "order_placed_from_json(dumps(order)) gives the same event back"
    assert back.items[0].unit_price.as_tuple() == Decimal("9.90").as_tuple(), (
        "9.90 keeps its trailing zero: Decimal travels as a string"
    )
    assert isinstance(back.items, tuple), "items come back as a tuple of LineItem"
    assert back.placed_at.utcoffset() == timedelta(0), "placed_at comes back in UTC"


def test_placed_at_in_another_zone_comes_back_in_utc():
    wire = good_wire()
    wire["placed_at"] = "2025-01-02T05:04:05.120000+02:00"
    back = codec.order_placed_from_json(json.dumps(wire))
    assert back.placed_at == make_order().placed_at, "the same instant"
    assert back.placed_at.utcoffset() == timedelta(0), (
        "placed_at is returned in UTC, whatever offset the JSON carried"
    )


def test_accepts_str_input_too():
    assert codec.order_placed_from_json(codec.dumps(make_order()).decode()) == make_order()


def good_wire() -> dict:
    return json.loads(codec.dumps(make_order()))


MALFORMED = [
    (lambda d: d.pop("customer_id"), "customer_id"),
    (lambda d: d.update(extra=1), "extra"),
    (lambda d: d.update(order_id="not-a-uuid"), "order_id"),
    (lambda d: d.update(customer_id=""), "customer_id"),
    (lambda d: d.update(items={}), "items"),
    (lambda d: d["items"].append("A-3"), "items[2]"),
    (lambda d: d["items"][0].pop("sku"), "items[0].sku"),
    (lambda d: d["items"][0].update(colour="red"), "items[0].colour"),
    (lambda d: d["items"][1].update(quantity="2"), "items[1].quantity"),
    (lambda d: d["items"][1].update(quantity=0), "items[1].quantity"),
    (lambda d: d["items"][1].update(quantity=True), "items[1].quantity"),
    (lambda d: d["items"][0].update(unit_price=9.9), "items[0].unit_price"),
    (lambda d: d["items"][0].update(unit_price="nine"), "items[0].unit_price"),
    (lambda d: d["items"][0].update(unit_price="Infinity"), "items[0].unit_price"),
    (lambda d: d.update(placed_at="2025-01-02T03:04:05"), "placed_at"),
    (lambda d: d.update(placed_at="yesterday"), "placed_at"),
    (lambda d: d.update(placed_at=1735787045), "placed_at"),
]


@pytest.mark.parametrize(("change", "field"), MALFORMED, ids=[f for _, f in MALFORMED])
def test_malformed_events_name_the_field(change, field):
    wire = good_wire()
    change(wire)
    with pytest.raises(codec.DecodeError) as caught:
        codec.order_placed_from_json(json.dumps(wire))
    assert field in str(caught.value), f"the error should name {field!r}: got {caught.value}"


@pytest.mark.parametrize("data", [b"", b"{", b"[1, 2]", b'"order"', b"\xff"])
def test_not_an_object_is_a_decode_error(data):
    with pytest.raises(codec.DecodeError):
        codec.order_placed_from_json(data)
