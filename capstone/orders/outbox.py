"""The outbox of orders: lesson 07's relay (07.8) and lesson 02's envelope (02.9), with the glue.

An order and its ``order.placed`` event are written in one transaction (:func:`add_event`), so
there is never an order without its event nor an event without its order. The relay is the
piece ``outbox_relay``: it publishes the rows to the stream, finishes a row only once the
notifier's consumer group has acknowledged its entry, publishes again the entries Redis lost,
and never trims an entry the group has not acknowledged: when the stream holds
``stream_max_entries`` entries it stops publishing (the rows wait in PostgreSQL) until the
notifier catches up. Each instance of orders runs one relay; their leases keep them apart.

The glue kept here:

- the event is lesson 02's envelope (the piece ``events``), encoded once, when the order is
  written; the request id and the trace context of the request that placed the order travel
  beside it as *headers*, more fields of the stream entry;
- :class:`ShopRelayHooks` (07.8's ``RelayHooks``): each ``XADD`` is a PRODUCER span that
  continues the request's trace and writes its own ``traceparent`` into the entry, where the
  notifier's CONSUMER span picks it up (capstone.common.tracing); a log line per event, with
  the request id; and the metrics: ``outbox_relayed_total``, ``outbox_republished_total``,
  ``outbox_acknowledged_total``, ``outbox_publishing_paused``, ``outbox_stream_entries``.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from opentelemetry.trace import Span, SpanKind
from prometheus_client import Counter, Gauge
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from capstone.common import tracing
from capstone.common.db import Database
from capstone.common.logging import current_request_id, get_logger
from capstone.orders.settings import OrdersSettings
from capstone.pieces import lesson_module, piece

relay_piece = piece("outbox_relay")
envelope = piece("events")

RELAYED = Counter("outbox_relayed_total", "outbox rows published to the stream")
REPUBLISHED = Counter(
    "outbox_republished_total", "events published again: their entry vanished unacknowledged"
)
ACKNOWLEDGED = Counter("outbox_acknowledged_total", "events the consumer group acknowledged")
PAUSED = Gauge("outbox_publishing_paused", "1 while the stream is full of unread entries")
STREAM_ENTRIES = Gauge("outbox_stream_entries", "entries in the stream when last measured")
# the header (entry field) that carries the request id: the one the notifier's hooks read
REQUEST_ID: str = lesson_module("telemetry", "carriers").REQUEST_ID_FIELD
log = get_logger("capstone.orders.outbox")


def add_event(session: Session | Connection, type: str, payload: dict[str, Any]) -> None:
    """Adds a new event to the outbox inside the caller's transaction, with the request id and
    the trace context of the current request beside it."""
    event = envelope.new_event(type, payload)
    headers = dict(tracing.current_carrier() or {})
    if request_id := current_request_id():
        headers[REQUEST_ID] = request_id
    relay_piece.add_to_outbox(
        session,
        event_id=event.event_id,
        type=event.type,
        body=envelope.encode(event),
        headers=headers,
    )


class ShopRelayHooks:
    """07.8's ``RelayHooks`` for the shop: trace spans, log lines and metrics."""

    def __init__(self, stream: str) -> None:
        self.stream = stream
        self._spans: dict[str, Span | None] = {}  # by event id, from XADD to its answer

    def before_publish(self, message: Any) -> dict[str, str]:
        """The PRODUCER span of one ``XADD``, in the trace of the request that wrote the row;
        its ``traceparent`` goes into the entry (nothing when tracing is off)."""
        span = tracing.start_span(
            f"publish {self.stream}",
            SpanKind.PRODUCER,
            message.headers,
            **{
                "messaging.system": "redis",
                "messaging.operation.type": "send",
                "messaging.destination.name": self.stream,
                "shop.event_id": message.event_id,
            },
        )
        self._spans[message.event_id] = span
        return tracing.carrier_of(span)

    def published(self, message: Any, entry_id: str) -> None:
        span = self._spans.pop(message.event_id, None)
        (REPUBLISHED if message.stream_id else RELAYED).inc()
        with tracing.ending(span, **{"messaging.message.id": entry_id}):
            log.info(
                "event published",
                event_id=message.event_id,
                entry_id=entry_id,
                request_id=message.headers.get(REQUEST_ID),
                republished=message.stream_id is not None,
            )

    def passed(self, report: Any) -> None:
        ACKNOWLEDGED.inc(report.confirmed)
        if report.stream_length is not None:
            STREAM_ENTRIES.set(report.stream_length)
        self._spans.clear()  # spans of XADDs that failed: never ended, never exported


def build_relay(db: Database, redis: Any, settings: OrdersSettings) -> Any:
    """This instance's relay (07.8's ``OutboxRelay``), named after the host and the process so
    that its leases say who holds a row."""
    relay = relay_piece.OutboxRelay(
        sessions=db.sessions,
        redis=redis,
        stream=settings.events_stream,
        group=settings.consumer_group,
        name=f"orders-{socket.gethostname()}-{os.getpid()}",
        recheck_seconds=settings.outbox_check_after_seconds,
        lease_seconds=settings.outbox_lease_seconds,
        poll_seconds=settings.outbox_poll_seconds,
        max_entries=settings.stream_max_entries,
        hooks=ShopRelayHooks(settings.events_stream),
    )
    PAUSED.set_function(lambda: 1 if relay.paused else 0)
    return relay
