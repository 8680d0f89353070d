"""03.1 — Pydantic v2 models with field and model validators.

``ProductIn`` is a product as a client sends it. Make the model enforce every rule below, so
that ``ProductIn(**data)`` either returns a clean product or raises ``pydantic.ValidationError``
(never anything else for bad input):

- ``sku``: matches SKU_PATTERN (``ABC-1234``) after being stripped and upper-cased, so
  " abc-1234 " is accepted as "ABC-1234" (``normalise_sku``, a *before* validator). Put the
  pattern on the field (``Field(pattern=SKU_PATTERN)``) so it shows in the JSON schema.
- ``name``: whitespace stripped; 1 to 100 characters after stripping.
- ``price``: a ``Decimal`` greater than 0, at most 10 digits, at most 2 decimal places
  ("9.99" yes, "9.999" no, "0" no, "-1" no). Hint: ``Annotated[Decimal, Field(...)]``.
- ``discount_percent``: whole number from 0 to MAX_DISCOUNT_PERCENT (default 0).
- ``clearance``: bool (default False).
- ``tags``: at most 10; each stripped and lower-cased; an empty tag is an error; duplicates
  (after cleaning) are dropped, keeping the first one and the client's order
  (``normalise_tags``).
- a discount above CLEARANCE_THRESHOLD_PERCENT is only allowed when ``clearance`` is true
  (``check_discount``, a model validator: the rule involves two fields).
- unknown keys are rejected (``extra="forbid"``).
- ``final_price`` (a computed field, so it appears in ``model_dump()`` and the JSON output):
  the price after the discount, rounded half up to the cent: 9.99 at 15% -> 8.49.

Raise ``ValueError`` inside validators: Pydantic turns it into a ValidationError.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Self

from pydantic import BaseModel, computed_field, field_validator, model_validator

SKU_PATTERN = r"^[A-Z]{3}-\d{4}$"
"""Three capital letters, a dash, four digits: ``ABC-1234``."""

MAX_DISCOUNT_PERCENT = 90
CLEARANCE_THRESHOLD_PERCENT = 50
"""Discounts above this many percent are only allowed on clearance products."""

CENT = Decimal("0.01")


class ProductIn(BaseModel):
    """A product as a client sends it. Add the configuration and field constraints above."""

    sku: str
    name: str
    price: Decimal
    discount_percent: int = 0
    clearance: bool = False
    tags: list[str] = []  # Pydantic copies mutable defaults, so [] is safe here

    @field_validator("sku", mode="before")
    @classmethod
    def normalise_sku(cls, value: object) -> object:
        """Strip and upper-case a string sku before the pattern is checked."""
        raise NotImplementedError("03.1: strip and upper-case the sku")

    @field_validator("tags")
    @classmethod
    def normalise_tags(cls, tags: list[str]) -> list[str]:
        """Strip and lower-case each tag; reject empty ones; drop duplicates, keeping order."""
        raise NotImplementedError("03.1: clean the tags")

    @model_validator(mode="after")
    def check_discount(self) -> Self:
        """Refuse a discount above CLEARANCE_THRESHOLD_PERCENT unless clearance is true."""
        raise NotImplementedError("03.1: enforce the clearance rule for big discounts")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def final_price(self) -> Decimal:
        """The price after the discount, rounded half up to the cent (use CENT)."""
        raise NotImplementedError("03.1: compute the discounted price")
