"""Notifications (lesson 07): unique event and order ids make a duplicate delivery harmless."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, DateTime, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from capstone.common.db import Base


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    order_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    user_id: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class NotificationOut(BaseModel):
    id: int
    event_id: str
    order_id: str
    user_id: str
    message: str
    created_at: datetime


class PlacedItem(BaseModel):
    product_id: int
    quantity: int


class OrderPlaced(BaseModel):
    """The ``order.placed`` payload as the notifier reads it: a payload that does not match can
    never be stored, so it is rejected (and dropped) before it reaches the database."""

    order_id: str = Field(min_length=1, max_length=36)
    user_id: str = Field(min_length=1, max_length=64)
    items: list[PlacedItem]
