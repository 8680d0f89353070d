"""The notifier's glue around lesson 07's consumer (07.7): what it decodes, and the request id
its log lines carry. The consumer itself is tested in lesson 07, and end to end in
test_flows.py, test_resilience.py and test_trace.py."""

from __future__ import annotations

import uuid

import orjson
import pytest

from capstone.common.logging import current_request_id
from capstone.contracts.events import ORDER_PLACED
from capstone.notifier.consumer import ShopConsumerHooks, decode
from capstone.pieces import piece

envelope = piece("events")


def placed(**payload: object) -> bytes:
    body = {"order_id": str(uuid.uuid4()), "user_id": "u1", "items": []} | payload
    return envelope.encode(envelope.new_event(ORDER_PLACED, body))


def test_an_order_placed_event_is_lesson_twos_envelope():
    raw = placed(items=[{"product_id": 7, "quantity": 2}])
    event = decode(raw)
    assert (event.type, event.payload["items"]) == (
        ORDER_PLACED,
        [{"product_id": 7, "quantity": 2}],
    )
    assert envelope.encode(event) == raw, "the same bytes the orders service wrote"


@pytest.mark.parametrize(
    "raw",
    [
        placed(order_id=""),  # a payload the notifier could never store
        placed(items="none"),
        b'{"type": "order.placed", "payload": {}}',  # not an envelope
        orjson.dumps(orjson.loads(placed()) | {"request_id": "r-1"}),  # beside it, not in it
    ],
    ids=["empty order id", "items not a list", "no envelope", "an unknown envelope field"],
)
def test_an_event_that_can_never_be_stored_is_refused_for_the_dead_letter(raw):
    with pytest.raises(ValueError):  # noqa: PT011 - the envelope's EventError or pydantic's
        decode(raw)


def test_an_event_of_another_type_is_decoded_and_left_alone():
    event = envelope.new_event("order.shipped", {"anything": 1})
    assert decode(envelope.encode(event)).type == "order.shipped"


def test_each_entry_is_handled_with_its_request_id_in_the_log_lines():
    hooks = ShopConsumerHooks("orders.events", "notifier")
    with hooks.handling("1-0", {b"request_id": b"req-42", b"event": b"{}"}):
        assert current_request_id() == "req-42"
    assert current_request_id() is None, "and only while the entry is handled"
    with hooks.handling("2-0", {b"request_id": b"bad\x00id"}):
        fresh = current_request_id()
    assert fresh is not None
    assert fresh != "bad\x00id", "a bad request id is replaced"
    assert fresh.isprintable()


def test_a_database_outage_is_waited_out_not_dead_lettered():
    """A good event whose notification cannot be stored now (the database away) is retried for
    days, never more than 5 s apart: dead-lettered, it would live only in Redis."""
    from capstone.notifier.consumer import PATIENT

    waited = sum(PATIENT.ceiling(retry) for retry in range(1, PATIENT.max_attempts))
    assert waited >= 24 * 3600, f"an outage of {waited:.0f} s would dead-letter good events"
    assert PATIENT.max_delay <= 5.0, "a database back should be noticed within seconds"
