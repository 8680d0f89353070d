"""The event envelope carried on the Redis Stream (lesson 07: outbox and streams).

The envelope has the fields of lesson 02's event codec (02.9): ``event_id``, ``type``,
``version``, ``occurred_at`` and ``payload``, plus the ``request_id`` that lets a log search
follow one order across services. One stream entry has two fields: ``type`` (for cheap
filtering) and ``event``, the whole envelope as orjson bytes. The event id is the consumer's
idempotency key.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, Field

ORDER_PLACED = "order.placed"


class Event(BaseModel):
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    version: int = 1  # bumped on a breaking change to the payload; consumers upcast old ones
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    request_id: str | None = None
    payload: dict[str, Any]

    def to_fields(self) -> dict[str, bytes]:
        """The stream entry fields for ``XADD``."""
        return {"type": self.type.encode(), "event": orjson.dumps(self.model_dump(mode="json"))}

    @classmethod
    def from_fields(cls, fields: dict[Any, Any]) -> Event:
        """Parses an entry read with ``XREADGROUP`` (bytes or str keys)."""
        raw = fields.get(b"event", fields.get("event"))
        if raw is None:
            raise ValueError("stream entry has no 'event' field")
        return cls.model_validate(orjson.loads(raw))
