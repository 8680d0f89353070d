"""The catalog's HTTP bodies (lesson 03)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from capstone.common.validation import SafeStr


class ProductIn(BaseModel):
    sku: SafeStr = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    name: SafeStr = Field(min_length=1, max_length=200)
    description: SafeStr = Field(default="", max_length=5000)
    price_cents: int = Field(ge=0, le=100_000_000)


class ProductPatch(BaseModel):
    name: SafeStr | None = Field(default=None, min_length=1, max_length=200)
    description: SafeStr | None = Field(default=None, max_length=5000)
    price_cents: int | None = Field(default=None, ge=0, le=100_000_000)


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    name: str
    description: str
    price_cents: int
    created_at: datetime
    updated_at: datetime


class ProductPage(BaseModel):
    """A keyset page (see capstone.contracts.paging): null ``next_cursor`` on the last page."""

    items: list[ProductOut]
    next_cursor: str | None
