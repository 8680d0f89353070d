"""The notifier's consumer: lesson 07's idempotent stream consumer (07.7), with the glue.

The consumer is the piece ``stream_consumer``: it reads ``orders.events`` in the consumer group
``notifier``, records each event id in ``processed_events`` in the same transaction as the
notification, acknowledges only after that commit, finishes its own pending entries when it
starts again, takes over (``XAUTOCLAIM``) the entries a dead instance left pending, and sends
an entry it can never handle to the dead-letter stream (``<stream>.dead``). Several instances
share the group, each with its own ``CONSUMER_NAME``. The acknowledgement is the notifier's
receipt: the orders relay publishes again an event whose entry vanished before the group
acknowledged it (see orders/outbox.py), and the second copy stores nothing.

The glue kept here:

- :func:`decode`: lesson 02's envelope (the piece ``events``); an ``order.placed`` whose
  payload could never be stored is poison, for the dead letter;
- :func:`store_notification`, the handler: one notification per order (``ON CONFLICT DO
  NOTHING`` on the order id, so a new event for the same order stores nothing either);
- :class:`ShopConsumerHooks` (07.7's ``ConsumerHooks``): each entry is handled in a CONSUMER
  span that continues the ``traceparent`` the relay wrote into the entry, so the notification
  joins the trace of the order's request, and its log lines carry the entry's ``request_id``;
  the outcomes are counted in ``stream_messages_total``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind
from prometheus_client import Counter
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from capstone.common.db import Database
from capstone.common.logging import get_logger
from capstone.common.observability import telemetry
from capstone.contracts.events import ORDER_PLACED, OrderPlaced
from capstone.notifier.models import Notification
from capstone.notifier.settings import NotifierSettings
from capstone.pieces import piece

consumer_piece = piece("stream_consumer")
envelope = piece("events")
observed = piece("telemetry")  # lesson 09: the trace and request id an entry carries

HANDLED = Counter("stream_messages_total", "stream entries handled", ["outcome"])
log = get_logger("capstone.notifier.consumer")


def decode(raw: bytes | str) -> Any:
    """Lesson 02's envelope from the entry's ``event`` field. An ``order.placed`` whose payload
    does not match can never be stored: it is refused here, so it goes to the dead letter at
    once instead of through the retries."""
    event = envelope.decode(raw)
    if event.type == ORDER_PLACED:
        OrderPlaced.model_validate(event.payload)
    return event


# built once, executed with each event's values (a statement built per call costs SQLAlchemy a
# fresh cache key every time)
STORE = (
    insert(Notification.metadata.tables[Notification.__tablename__])
    .on_conflict_do_nothing()
    .returning(Notification.id)
)


def store_notification(session: Session, event: Any) -> None:
    """The effect, in the consumer's transaction: the order's notification, once. Other event
    types are recorded as processed and need nothing."""
    if event.type != ORDER_PLACED:
        return
    placed = OrderPlaced.model_validate(event.payload)
    count = sum(item.quantity for item in placed.items)
    stored = session.scalar(
        STORE,
        {
            "event_id": str(event.event_id),
            "order_id": placed.order_id,
            "user_id": placed.user_id,
            "message": f"Your order {placed.order_id} is placed: {count} item(s).",
        },
    )
    trace.get_current_span().set_attribute("shop.order_id", placed.order_id)
    log.info(
        "notification",
        outcome="stored" if stored is not None else "duplicate",
        event_id=str(event.event_id),
        order_id=placed.order_id,
    )


class ShopConsumerHooks:
    """07.7's ``ConsumerHooks`` for the shop: a CONSUMER span and the request id around each
    entry, and a count of the outcomes."""

    def __init__(self, stream: str, group: str) -> None:
        self.stream = stream
        self.group = group

    @contextmanager
    def handling(self, entry_id: str, fields: Mapping[Any, Any]) -> Iterator[None]:
        """Lesson 09's ``continue_trace``: the entry's trace and request id (fields
        ``traceparent`` and ``request_id``, a bad id replaced) for as long as it is handled."""
        with telemetry("notifier").continue_trace(
            observed.extract_fields(fields),
            f"process {self.stream}",
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "redis",
                "messaging.operation.type": "process",
                "messaging.destination.name": self.stream,
                "messaging.consumer.group.name": self.group,
                "messaging.message.id": entry_id,
            },
        ):
            yield

    def handled(self, entry_id: str, outcome: str) -> None:
        HANDLED.labels(outcome).inc()
        if outcome == consumer_piece.DEAD_LETTERED:
            log.error("event dead-lettered", entry_id=entry_id, stream=self.stream)


# A handler that fails is the database away (a payload that could never be stored is refused
# by ``decode``, at once): wait it out, trying every few seconds, rather than dead-letter a good
# event into a Redis stream that may not survive a restart. As many attempts as a week holds.
PATIENT = consumer_piece.RetryPolicy(max_attempts=120_000, base_delay=0.1, max_delay=5.0)


def build_consumer(db: Database, redis: Any, settings: NotifierSettings) -> Any:
    """This instance's member of the group (07.7's ``StreamConsumer``). A failing handler (the
    database away) is retried, every 5 s at most, until the database is back."""
    return consumer_piece.StreamConsumer(
        sessions=db.sessions,
        redis=redis,
        stream=settings.events_stream,
        group=settings.consumer_group,
        consumer=settings.consumer_name,
        handler=store_notification,
        decode=decode,
        dead_letter_stream=settings.dead_letter_stream or f"{settings.events_stream}.dead",
        retry=PATIENT,
        claim_idle_ms=settings.claim_idle_ms,
        batch_size=settings.batch,
        block_ms=settings.block_ms,
        hooks=ShopConsumerHooks(settings.events_stream, settings.consumer_group),
    )
