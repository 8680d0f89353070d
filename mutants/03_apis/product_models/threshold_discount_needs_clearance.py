"""Asks for clearance at exactly the threshold (50%) instead of above it.

03.1 — Pydantic v2 models with field and model validators.

A product as a client sends it (``ProductIn``) and as the API returns it (``ProductOut``).
Validation lives in the model, so every endpoint that accepts a product gets the same rules.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
    model_validator,
)

SKU_PATTERN = r"^[A-Z]{3}-\d{4}$"
"""Three capital letters, a dash, four digits: ``ABC-1234``."""

MAX_DISCOUNT_PERCENT = 90
CLEARANCE_THRESHOLD_PERCENT = 50
"""Discounts above this many percent are only allowed on clearance products."""

CENT = Decimal("0.01")


class ProductIn(BaseModel):
    """A product as a client sends it."""

    # unknown keys are a client bug worth reporting, not something to drop silently
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: str = Field(pattern=SKU_PATTERN, description="Stock keeping unit, e.g. ABC-1234")
    name: str = Field(min_length=1, max_length=100)
    price: Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2)]
    discount_percent: int = Field(default=0, ge=0, le=MAX_DISCOUNT_PERCENT)
    clearance: bool = False
    tags: list[str] = Field(default_factory=list, max_length=10)

    @field_validator("sku", mode="before")
    @classmethod
    def normalise_sku(cls, value: object) -> object:
        # "before" runs ahead of the pattern check, so " abc-1234 " can still match it
        if isinstance(value, str):
            return value.strip().upper()
        return value

    @field_validator("tags")
    @classmethod
    def normalise_tags(cls, tags: list[str]) -> list[str]:
        cleaned: list[str] = []
        for tag in tags:
            tag = tag.strip().lower()
            if not tag:
                raise ValueError("tags must not be empty")
            if tag not in cleaned:  # keep the first occurrence, and the client's order
                cleaned.append(tag)
        return cleaned

    @model_validator(mode="after")
    def check_discount(self) -> Self:
        # a rule about two fields belongs in a model validator: each field alone is valid
        if self.discount_percent >= CLEARANCE_THRESHOLD_PERCENT and not self.clearance:
            raise ValueError(
                f"a discount above {CLEARANCE_THRESHOLD_PERCENT}% needs clearance=true"
            )
        return self

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented pattern
    @property
    def final_price(self) -> Decimal:
        """The price after the discount, rounded half up to the cent."""
        factor = Decimal(100 - self.discount_percent) / 100
        return (self.price * factor).quantize(CENT, rounding=ROUND_HALF_UP)
