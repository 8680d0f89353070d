"""A correct cart that counts in whole cents and lists its lines sorted by SKU."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Line:
    sku: str
    unit_price: Decimal
    quantity: int


class Cart:
    def __init__(self) -> None:
        self._prices: dict[str, Decimal] = {}
        self._counts: dict[str, int] = {}

    def add(self, sku: str, unit_price: Decimal, quantity: int = 1) -> None:
        if quantity <= 0 or unit_price < 0:
            raise ValueError("bad line")
        if self._prices.setdefault(sku, unit_price) != unit_price:
            raise ValueError("one SKU, one price")
        self._counts[sku] = self._counts.get(sku, 0) + quantity

    def remove(self, sku: str, quantity: int = 1) -> None:
        left = self._counts.get(sku, 0) - quantity
        if sku not in self._counts or left < 0:
            raise KeyError(f"cannot take {quantity} of {sku}")
        if left:
            self._counts[sku] = left
        else:
            del self._counts[sku], self._prices[sku]

    def lines(self) -> list[Line]:
        return [Line(sku, self._prices[sku], self._counts[sku]) for sku in sorted(self._counts)]

    def subtotal(self) -> Decimal:
        return sum((self._prices[s] * n for s, n in self._counts.items()), Decimal(0))

    def total(self, code: str | None = None) -> Decimal:
        if code not in (None, "SAVE10"):
            raise ValueError("no such code")
        tenths = self.subtotal() * 1000  # in tenths of a cent
        if code and tenths >= 50_000:
            tenths = tenths * 9 / 10
        cents = int((tenths + 5) // 10)  # amounts are never negative: this rounds halves up
        return Decimal(cents) / 100
