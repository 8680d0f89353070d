"""The orders stream (lesson 07): its name, its consumer group, and the events it carries.

The envelope (event id, type, version, time, request id, payload) is lesson 02's codec, in
:mod:`capstone.common.events`; this module names the payload of each event type.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from capstone.common.events import ORDER_PLACED, Event

__all__ = ["EVENTS_STREAM", "NOTIFIER_GROUP", "ORDER_PLACED", "Event", "OrderPlaced", "PlacedItem"]

EVENTS_STREAM = "orders.events"  # the default; EVENTS_STREAM in the environment overrides it
NOTIFIER_GROUP = "notifier"  # the consumer group whose progress the outbox relay watches


class PlacedItem(BaseModel):
    product_id: int
    quantity: int


class OrderPlaced(BaseModel):
    """The ``order.placed`` payload. A payload that does not match can never be stored, so the
    notifier rejects (and drops) it before it reaches the database."""

    order_id: str = Field(min_length=1, max_length=36)
    user_id: str = Field(min_length=1, max_length=64)
    items: list[PlacedItem]
