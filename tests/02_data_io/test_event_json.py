"""02.8 — Event envelopes, stage 1: timestamps and payloads that survive a JSON round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from journey.targets import load

event_json = load(__file__, "event_json")

WHEN = datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
PLUS_TWO = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2025, 1, 2, 5, 4, 5, tzinfo=PLUS_TWO), "2025-01-02T03:04:05.000000Z"),
        (WHEN, "2025-01-02T03:04:05.123456Z"),
        (
            datetime(1999, 12, 31, 19, 0, 0, 1, tzinfo=timezone(-timedelta(hours=5))),
            "2000-01-01T00:00:00.000001Z",
        ),
    ],
)
def test_format_timestamp_is_utc_with_microseconds_and_z(value: datetime, expected: str) -> None:
    assert event_json.format_timestamp(value) == expected, (
        "one spelling per instant: converted to UTC, six digits of microseconds, and a Z"
    )


def test_format_timestamp_refuses_a_naive_time() -> None:
    with pytest.raises(event_json.EventError, match="aware") as caught:
        event_json.format_timestamp(datetime(2025, 1, 2))
    assert caught.value.field == "occurred_at", "the error's field is the one being formatted"


@pytest.mark.parametrize(
    "text", ["2025-01-02T03:04:05.123456Z", "2025-01-02T05:04:05.123456+02:00"]
)
def test_parse_timestamp_returns_the_instant_in_utc(text: str) -> None:
    got = event_json.parse_timestamp(text)
    assert got == WHEN, "the same instant, whatever offset the text carried"
    assert got.utcoffset() == timedelta(0), "returned in UTC"


def test_a_timestamp_survives_the_round_trip() -> None:
    local = datetime(2025, 6, 1, 12, 0, 0, 5, tzinfo=PLUS_TWO)
    back = event_json.parse_timestamp(event_json.format_timestamp(local))
    assert back == local, "parse_timestamp(format_timestamp(t)) is the same instant"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2025-01-02T03:04:05", "time zone"),
        ("last tuesday", "ISO 8601"),
        (1735787045, "ISO 8601"),
        (None, "ISO 8601"),
    ],
)
def test_parse_timestamp_refuses(value: object, words: str) -> None:
    with pytest.raises(event_json.EventError) as caught:
        event_json.parse_timestamp(value, "placed_at")
    assert caught.value.field == "placed_at", "the error's field is the one passed in"
    assert words in str(caught.value), f"the message should mention {words!r}: {caught.value}"


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"nested": {"deeper": {"list": [[], {}, [1, [2, [3]]]]}}},
        {"unicode": "café ☕ 東京 \U0001f600", "escapes": 'quote " backslash \\ newline \n'},
        {"floats": [0.1, 1e-300, 1.7976931348623157e308, -0.0, 2.5]},
        {"ints": [-(2**63), 2**64 - 1, 0, -1, 2**53 + 1]},
        {"flags": [True, False, None], "": "empty key"},
    ],
    ids=["empty", "nested", "unicode", "floats", "ints", "flags"],
)
def test_check_json_accepts_what_json_gives_back(value: dict) -> None:
    assert event_json.check_json(value) is None, "a value JSON gives back unchanged passes"
    assert json.loads(json.dumps(value)) == value  # the promise check_json keeps


def test_the_integer_range_is_what_orjson_writes() -> None:
    assert (event_json.INT_MIN, event_json.INT_MAX) == (-(2**63), 2**64 - 1)
    event_json.check_json([event_json.INT_MIN, event_json.INT_MAX])


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"total": Decimal("19.80")}, "payload.total"),
        ({"items": [{"sku": "A"}, {"price": Decimal("2")}]}, "payload.items[1].price"),
        ({"at": WHEN}, "payload.at"),
        ({"ids": (1, 2)}, "payload.ids"),
        ({"id": UUID(int=7)}, "payload.id"),
        ({"ratio": float("nan")}, "payload.ratio"),
        ({"ratio": float("-inf")}, "payload.ratio"),
        ({"big": 2**64}, "payload.big"),
        ({"small": -(2**63) - 1}, "payload.small"),
        ({"map": {1: "one"}}, "payload.map"),
        ({"tags": {"a", "b"}}, "payload.tags"),
        ([[1, 2], [3, b"x"]], "payload[1][1]"),
    ],
)
def test_check_json_points_at_the_value_it_refuses(value: object, path: str) -> None:
    with pytest.raises(event_json.EventError) as caught:
        event_json.check_json(value, "payload")
    assert caught.value.field == path, (
        f"the error should point at {path!r}, got field={caught.value.field!r} ({caught.value})"
    )
    assert str(caught.value).startswith(f"{path}: "), "the message starts with the field"
    assert isinstance(caught.value, ValueError), "EventError is a ValueError"


def test_check_json_starts_from_the_path_it_is_given() -> None:
    with pytest.raises(event_json.EventError) as caught:
        event_json.check_json({"x": Decimal(1)}, "body")
    assert caught.value.field == "body.x"
