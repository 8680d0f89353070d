"""02.9 — Event envelopes, stage 2: exact JSON round trips with orjson (capstone piece)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from journey.targets import load

events = load(__file__, "events")

EVENT_ID = UUID("0b6c8f1e-3f0a-4d47-9c1e-5a2b7d9e4f10")
WHEN = datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
PAYLOAD = {"order_id": "o-1", "total": "19.80", "items": [{"sku": "A-1", "qty": 2}], "gift": False}


def make_event(**changes):
    fields = {
        "event_id": EVENT_ID,
        "type": "order.placed",
        "version": 1,
        "occurred_at": WHEN,
        "payload": dict(PAYLOAD),
    }
    fields.update(changes)
    return events.Event(**fields)


def test_encode_writes_the_envelope_compact_and_sorted():
    data = events.encode(make_event(payload={"b": 1, "a": None}))
    assert isinstance(data, bytes)
    assert data == (
        b'{"event_id":"0b6c8f1e-3f0a-4d47-9c1e-5a2b7d9e4f10",'
        b'"occurred_at":"2025-01-02T03:04:05.123456Z",'
        b'"payload":{"a":null,"b":1},"type":"order.placed","version":1}'
    ), "compact JSON, keys sorted at every level, UTC timestamp with microseconds and Z"


def test_round_trip_is_exact():
    event = make_event()
    data = events.encode(event)
    back = events.decode(data)
    assert back == event, "decode(encode(event)) must give the same event"
    assert isinstance(back.event_id, UUID), "event_id comes back as a UUID"
    assert back.occurred_at.utcoffset() == timedelta(0), "occurred_at comes back in UTC"
    assert events.encode(back) == data, "encoding is deterministic: same event, same bytes"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"nested": {"deeper": {"list": [[], {}, [1, [2, [3]]]]}}},
        {"unicode": "café ☕ 東京 \U0001f600", "escapes": 'quote " backslash \\ newline \n'},
        {"floats": [0.1, 1e-300, 1.7976931348623157e308, -0.0, 2.5]},
        {"ints": [events.INT_MIN, events.INT_MAX, 0, -1, 2**53 + 1]},
        {"flags": [True, False, None], "": "empty key"},
    ],
    ids=["empty", "nested", "unicode", "floats", "ints", "flags"],
)
def test_round_trip_is_exact_for_tricky_payloads(payload):
    local = datetime(1999, 12, 31, 19, 0, 0, 1, tzinfo=timezone(timedelta(hours=-5)))
    event = make_event(payload=payload, occurred_at=local, version=7)
    data = events.encode(event)
    assert events.decode(data) == event, f"the round trip changed the event: {data!r}"
    assert events.encode(events.decode(data)) == data, "encoding must be deterministic"


def test_new_event_fills_id_and_utc_time():
    local = datetime(2025, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    event = events.new_event(
        "order.placed", PAYLOAD, clock=lambda: local, id_factory=lambda: EVENT_ID
    )
    assert event == make_event(occurred_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert event.occurred_at.tzinfo is not None
    assert event.occurred_at.utcoffset() == timedelta(0), "new events are stamped in UTC"
    assert event.version == 1, "version defaults to 1"
    assert (
        events.new_event("order.placed", {}).event_id
        != events.new_event("order.placed", {}).event_id
    ), "each new event gets a fresh id (uuid4 by default)"


def test_an_event_is_frozen():
    event = events.new_event("order.placed", {"order_id": "o-1"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.type = "order.cancelled"  # type: ignore[misc]
    assert event.type == "order.placed", (
        "Event is a frozen dataclass: an event is a fact, nobody may change it once made"
    )


def test_new_event_copies_the_payload():
    payload = {"order_id": "o-1"}
    event = events.new_event("order.placed", payload)
    payload["order_id"] = "changed later"
    assert event.payload == {"order_id": "o-1"}, (
        "the payload is copied into a new dict: changing the caller's dict later "
        "must not change an event already created"
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"type": "OrderPlaced"}, "type"),
        ({"type": "order"}, "type"),
        ({"version": 0}, "version"),
        ({"version": True}, "version"),
        ({"clock": lambda: datetime(2025, 1, 2)}, "occurred_at"),
    ],
)
def test_new_event_validates_at_once(kwargs, field):
    arguments = {"type": "order.placed", "payload": {}} | kwargs
    with pytest.raises(events.EventError) as caught:
        events.new_event(**arguments)
    assert caught.value.field == field, f"the error's field should be {field!r}"


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"total": Decimal("19.80")}, "payload.total"),
        ({"items": [{"sku": "A"}, {"price": Decimal("2")}]}, "payload.items[1].price"),
        ({"ids": (1, 2)}, "payload.ids"),
        ({"big": 2**64}, "payload.big"),
    ],
)
def test_encode_refuses_values_that_would_not_round_trip(payload, path):
    with pytest.raises(events.EventError) as caught:
        events.encode(make_event(payload=payload))
    assert caught.value.field == path, (
        f"the error should point at {path!r}, got field={caught.value.field!r} ({caught.value})"
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"occurred_at": datetime(2025, 1, 2)}, "occurred_at"),
        ({"payload": ["not", "an", "object"]}, "payload"),
        ({"event_id": "0b6c8f1e-3f0a-4d47-9c1e-5a2b7d9e4f10"}, "event_id"),
        ({"type": "order placed"}, "type"),
    ],
)
def test_encode_refuses_a_bad_envelope(changes, field):
    with pytest.raises(events.EventError) as caught:
        events.encode(make_event(**changes))
    assert caught.value.field == field


GOOD_WIRE = {
    "event_id": str(EVENT_ID),
    "type": "order.placed",
    "version": 1,
    "occurred_at": "2025-01-02T03:04:05.123456Z",
    "payload": PAYLOAD,
}
DROP = object()


def wire(**changes) -> bytes:
    """The JSON of a good envelope, with some fields changed (or dropped with DROP)."""
    data = {**GOOD_WIRE, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not DROP}).encode()


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (b"{not json", None, "JSON"),
        (b"", None, "JSON"),
        (b"[1, 2]", None, "object"),
        (b'"order.placed"', None, "object"),
        (wire(payload=DROP, version=DROP), None, "payload"),
        (wire(extra=1), None, "extra"),
        (wire(event_id="123"), "event_id", "UUID"),
        (wire(event_id=123), "event_id", "UUID"),
        (wire(occurred_at="2025-01-02T03:04:05"), "occurred_at", "time zone"),
        (wire(occurred_at="last tuesday"), "occurred_at", "ISO 8601"),
        (wire(occurred_at=1735787045), "occurred_at", "ISO 8601"),
        (wire(version="1"), "version", "integer"),
        (wire(version=0), "version", "integer"),
        (wire(type=""), "type", "order.placed"),
        (wire(payload="{}"), "payload", "object"),
    ],
)
def test_decode_gives_clear_errors(data, field, words):
    with pytest.raises(events.EventError) as caught:
        events.decode(data)
    assert caught.value.field == field, f"expected field={field!r}, got {caught.value.field!r}"
    assert words in str(caught.value), f"the message should mention {words!r}: {caught.value}"


def test_decode_names_every_missing_field():
    with pytest.raises(events.EventError) as caught:
        events.decode(b"{}")
    message = str(caught.value)
    assert all(name in message for name in events.ENVELOPE_FIELDS), (
        f"one error lists all missing fields: {message}"
    )


def test_decode_reads_the_documented_wire_format():
    assert events.decode(wire()) == make_event()


def test_decode_accepts_str_and_other_offsets():
    text = wire(occurred_at="2025-01-02T05:04:05.123456+02:00").decode()
    back = events.decode(text)
    assert back == make_event(), "an offset other than Z is the same instant"
    assert back.occurred_at.utcoffset() == timedelta(0), "occurred_at is returned in UTC"
