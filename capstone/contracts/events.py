"""The orders stream (lesson 07): its name, its consumer group, and the events it carries.

The envelope (event id, type, version, time, payload) is lesson 02's codec, the piece
``events`` (02.9); the request id and the trace context travel beside it, as more fields of
the stream entry. This module names the payload of each event type.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["EVENTS_STREAM", "NOTIFIER_GROUP", "ORDER_PLACED", "OrderPlaced", "PlacedItem"]

EVENTS_STREAM = "orders.events"  # the default; EVENTS_STREAM in the environment overrides it
NOTIFIER_GROUP = "notifier"  # the consumer group whose progress the outbox relay watches
ORDER_PLACED = "order.placed"


class PlacedItem(BaseModel):
    product_id: int
    quantity: int


class OrderPlaced(BaseModel):
    """The ``order.placed`` payload. A payload that does not match can never be stored, so the
    notifier refuses it (to the dead letter) before it reaches the database."""

    order_id: str = Field(min_length=1, max_length=36)
    user_id: str = Field(min_length=1, max_length=64)
    items: list[PlacedItem]
