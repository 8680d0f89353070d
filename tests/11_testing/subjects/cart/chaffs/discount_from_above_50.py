"""Gives the discount only above 50.00, not at exactly 50.00."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
DISCOUNT_CODE = "SAVE10"
DISCOUNT_FROM = Decimal("50.00")  # the smallest subtotal that gets the discount
DISCOUNT_RATE = Decimal("0.10")


@dataclass(frozen=True)
class Line:
    """One SKU in the cart: its unit price and how many of it."""

    sku: str
    unit_price: Decimal
    quantity: int


class Cart:
    """A shopping cart. Prices are ``Decimal`` amounts; nothing here uses floats.

    - ``add(sku, unit_price, quantity=1)``: ``quantity`` must be at least 1 and ``unit_price``
      at least 0, or it is a ``ValueError``. Adding a SKU that is already in the cart adds to
      its quantity; a different unit price for it is a ``ValueError``.
    - ``remove(sku, quantity=1)``: takes ``quantity`` units away; a line with none left goes
      from the cart. An unknown SKU, or more units than the cart holds, is a ``KeyError`` and
      changes nothing.
    - ``lines()``: the lines, one per SKU, in no particular order.
    - ``subtotal()``: the sum of ``unit_price * quantity``; ``Decimal("0")`` when empty.
    - ``total(code=None)``: the subtotal, less 10% with the code ``"SAVE10"`` when the subtotal
      is 50.00 or more, rounded to the cent, halves up (``45.045`` -> ``45.05``). Any other
      code is a ``ValueError``.

    Error messages are not part of the contract.
    """

    def __init__(self) -> None:
        self._lines: dict[str, Line] = {}

    def add(self, sku: str, unit_price: Decimal, quantity: int = 1) -> None:
        if quantity < 1:
            raise ValueError(f"quantity must be at least 1, not {quantity}")
        if unit_price < 0:
            raise ValueError(f"a price cannot be negative: {unit_price}")
        line = self._lines.get(sku)
        if line is None:
            self._lines[sku] = Line(sku, unit_price, quantity)
            return
        if line.unit_price != unit_price:
            raise ValueError(f"{sku} is already in the cart at {line.unit_price}")
        self._lines[sku] = Line(sku, unit_price, line.quantity + quantity)

    def remove(self, sku: str, quantity: int = 1) -> None:
        line = self._lines.get(sku)
        if line is None or quantity > line.quantity:
            raise KeyError(sku)
        if quantity == line.quantity:
            del self._lines[sku]
        else:
            self._lines[sku] = Line(sku, line.unit_price, line.quantity - quantity)

    def lines(self) -> list[Line]:
        return list(self._lines.values())

    def subtotal(self) -> Decimal:
        return sum((line.unit_price * line.quantity for line in self._lines.values()), Decimal(0))

    def total(self, code: str | None = None) -> Decimal:
        subtotal = self.subtotal()
        if code is not None and code != DISCOUNT_CODE:
            raise ValueError(f"unknown discount code {code!r}")
        if code == DISCOUNT_CODE and subtotal > DISCOUNT_FROM:
            subtotal = subtotal * (1 - DISCOUNT_RATE)
        return subtotal.quantize(CENT, rounding=ROUND_HALF_UP)
