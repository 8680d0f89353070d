"""Orders tables (lessons 04, 07 and 12); the HTTP bodies are in capstone.contracts.orders.

``idempotency_keys`` has the primary key (user_id, key): claiming a key is one
``INSERT ... ON CONFLICT``. ``outbox`` rows are written in the same transaction as their order
and published to the stream by lesson 07's relay, which then waits for the consumer group to
acknowledge them (see outbox.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from capstone.common.db import service_metadata


class Base(DeclarativeBase):
    """This service's tables only: its migrations compare its database with this metadata."""

    metadata = service_metadata()


class Order(Base):
    __tablename__ = "orders"
    # a user's orders, oldest first: the keyset of GET /orders
    __table_args__ = (Index("ix_orders_user_created", "user_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    lines: Mapped[list[OrderLine]] = relationship(lazy="selectin", order_by="OrderLine.product_id")


class OrderLine(Base):
    __tablename__ = "order_lines"

    order_id: Mapped[str] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)  # running | done
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)  # text: replayed byte for byte
    locked_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class OutboxMessage(Base):
    """The table of lesson 07's relay (07.8, ``outbox_relay.SCHEMA_SQL``), which writes and
    reads it with its own SQL: a row is published once ``stream_id`` is set, and finished
    (``sent_at``) once the notifier's group acknowledged its entry."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unfinished", "id", postgresql_where="sent_at IS NULL"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)  # lesson 02's envelope
    # more fields of the stream entry: the request id, the trace context of the request
    headers: Mapped[dict[str, str]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb"), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    stream_id: Mapped[str | None] = mapped_column(String(40))  # the entry XADD answered
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# The same tables for SQLAlchemy Core: plain INSERTs of new rows that skip the ORM's unit of work
orders_table = Base.metadata.tables[Order.__tablename__]
order_lines_table = Base.metadata.tables[OrderLine.__tablename__]
