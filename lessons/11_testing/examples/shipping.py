"""The code that 04_coverage.py (and the lesson's notebook) measures: a shipping price with a
few branches and two boundaries. Not an example to run by itself."""

from __future__ import annotations

import math
from decimal import Decimal

BASE = Decimal("4.90")  # up to 2 kg
PER_KG = Decimal("1.50")  # for each started kilogram above 2 kg
FREE_FROM = Decimal("60.00")  # orders from this total ship free (standard shipping only)


def shipping_cost(weight_kg: float, order_total: Decimal, express: bool = False) -> Decimal:
    """4.90 up to 2 kg, plus 1.50 for each started kilogram above; express costs double and is
    never free; standard shipping is free for orders of 60.00 or more. A weight of 0 or less is
    a ValueError."""
    if weight_kg <= 0:
        raise ValueError("a parcel weighs something")
    cost = BASE
    if weight_kg > 2:
        cost += PER_KG * math.ceil(weight_kg - 2)
    if express:
        return cost * 2
    if order_total >= FREE_FROM:
        return Decimal("0.00")
    return cost
