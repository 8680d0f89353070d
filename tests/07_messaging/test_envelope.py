"""07.1 — a versioned event envelope with upcasting, on lesson 02's wire format."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from journey.targets import load

envelope = load(__file__, "envelope")

EVENT_ID = uuid.UUID("6f1c0e1a-2b3c-4d5e-8f90-a1b2c3d4e5f6")
WHEN = datetime(2025, 1, 2, 3, 4, 5, 600, tzinfo=UTC)
# exactly what lesson 02's encode() writes for this event
LESSON_02_BYTES = (
    b'{"event_id":"6f1c0e1a-2b3c-4d5e-8f90-a1b2c3d4e5f6","occurred_at":"2025-01-02T03:04:05.000600Z",'
    b'"payload":{"order_id":"o-1","total":"12.50","user_id":"u-1"},"type":"order.placed","version":1}'
)
V1 = {"order_id": "o-1", "user_id": "u-1", "total": "12.50"}
V2 = {"order_id": "o-1", "user_id": "u-1", "total": {"amount_cents": 1250, "currency": "EUR"}}


def wire(**changes: object) -> bytes:
    raw = orjson.loads(LESSON_02_BYTES)
    raw.update(changes)
    return orjson.dumps(raw)


def reason_of(data: bytes | str, registry: object | None = None) -> str:
    with pytest.raises(envelope.PoisonMessage) as caught:
        envelope.decode(data, registry or envelope.order_events())
    assert isinstance(caught.value, ValueError), "PoisonMessage is a ValueError"
    return caught.value.reason


def test_encode_writes_lesson_02s_wire_format_byte_for_byte() -> None:
    event = envelope.Event(EVENT_ID, "order.placed", 1, WHEN, dict(V1))
    assert envelope.encode(event) == LESSON_02_BYTES, (
        "encode must keep lesson 02's format: compact JSON, sorted keys, UTC with "
        "microseconds and a Z, so old and new services read each other"
    )


def test_a_v1_order_placed_is_upcast_to_v2() -> None:
    event = envelope.decode(LESSON_02_BYTES, envelope.order_events())
    assert event.version == 2, "decode hands the consumer the CURRENT version"
    assert event.payload == V2, "the v1 total '12.50' becomes 1250 cents in euros"
    assert (event.event_id, event.type) == (EVENT_ID, "order.placed")
    assert event.occurred_at == WHEN, "upcasting changes the payload and version, nothing else"


def test_a_current_version_event_is_left_as_it_is() -> None:
    event = envelope.decode(wire(version=2, payload=V2), envelope.order_events())
    assert (event.version, event.payload) == (2, V2)


@pytest.mark.parametrize(("total", "cents"), [("12.5", 1250), ("0.01", 1), ("7", 700)])
def test_v1_totals_convert_exactly(total: str, cents: int) -> None:
    assert envelope.order_placed_v1_to_v2({**V1, "total": total})["total"] == {
        "amount_cents": cents,
        "currency": "EUR",
    }, "convert with Decimal: a float would turn 0.29 euros into 28 cents"


def test_decimal_not_float_for_money() -> None:
    assert envelope.order_placed_v1_to_v2({**V1, "total": "0.29"})["total"]["amount_cents"] == 29


@pytest.mark.parametrize("total", ["12.505", "abc", "", "-1.00", 12.5, None])
def test_a_v1_total_that_cannot_convert_is_poison(total: object) -> None:
    with pytest.raises(envelope.PoisonMessage):
        envelope.order_placed_v1_to_v2({**V1, "total": total})


def test_unknown_envelope_fields_are_ignored() -> None:
    event = envelope.decode(wire(request_id="req-42", trace_id="t"), envelope.order_events())
    assert event.version == 2, (
        "a tolerant reader ignores envelope fields it does not know (request_id, trace ids): "
        "adding an optional field must not break older consumers"
    )


def test_upcasters_run_in_a_chain_and_never_touch_the_input() -> None:
    registry = envelope.Registry()
    registry.add_type("thing.made", 3)
    calls: list[int] = []

    @registry.upcaster("thing.made", 1)
    def one_to_two(payload: dict) -> dict:
        calls.append(1)
        payload["b"] = payload.pop("a")
        return payload

    @registry.upcaster("thing.made", 2)
    def two_to_three(payload: dict) -> dict:
        calls.append(2)
        return {**payload, "c": payload["b"] * 2}

    original = envelope.Event(EVENT_ID, "thing.made", 1, WHEN, {"a": 21})
    upcast = registry.upcast(original)
    assert calls == [1, 2], "each step once, oldest first"
    assert (upcast.version, upcast.payload) == (3, {"b": 21, "c": 42})
    assert (original.version, original.payload) == (1, {"a": 21}), (
        "upcast must not change the event it was given: hand each upcaster a copy"
    )
    from_two = registry.upcast(envelope.Event(EVENT_ID, "thing.made", 2, WHEN, {"b": 5}))
    assert calls == [1, 2, 2], "an event at v2 needs only the v2 -> v3 step"
    assert from_two.payload == {"b": 5, "c": 10}


def test_a_missing_upcaster_step_is_poison_not_a_crash() -> None:
    registry = envelope.Registry()
    registry.add_type("thing.made", 3)
    registry.upcaster("thing.made", 1)(lambda payload: payload)
    reason = reason_of(wire(type="thing.made", version=1), registry)
    assert reason.startswith("unknown version"), reason


@pytest.mark.parametrize("version", [0, -1])
def test_a_current_version_below_one_is_refused(version: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        envelope.Registry().add_type("thing.made", version)


@pytest.mark.parametrize(
    ("data", "starts_with"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[1, 2]", "not an envelope"),
        (b'"order.placed"', "not an envelope"),
        (orjson.dumps({"type": "order.placed", "version": 1}), "not an envelope"),
        (wire(event_id="nope"), "not an envelope"),
        (wire(event_id=7), "not an envelope"),
        (wire(version="1"), "not an envelope"),
        (wire(version=True), "not an envelope"),
        (wire(version=0), "not an envelope"),
        (wire(occurred_at="2025-01-02T03:04:05"), "not an envelope"),
        (wire(occurred_at="yesterday"), "not an envelope"),
        (wire(payload=[1]), "not an envelope"),
        (wire(type=""), "not an envelope"),
        (wire(type="order.shipped"), "unknown event type"),
        (wire(version=3), "unknown version"),
    ],
)
def test_every_poison_message_says_why(data: bytes, starts_with: str) -> None:
    reason = reason_of(data)
    assert reason.startswith(starts_with), (
        f"the dead letter's reason should start with {starts_with!r}, got {reason!r}"
    )


def test_an_unknown_version_names_the_version_and_the_type() -> None:
    reason = reason_of(wire(version=9))
    assert "9" in reason, reason
    assert "order.placed" in reason, reason


def test_decode_accepts_text_and_normalises_time_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    text = wire(occurred_at=WHEN.astimezone(paris).isoformat()).decode()
    event = envelope.decode(text, envelope.order_events())
    assert event.occurred_at == WHEN
    assert event.occurred_at.utcoffset() == timedelta(0), "occurred_at comes back in UTC"
