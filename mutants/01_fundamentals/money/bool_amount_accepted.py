"""Accepts True as an amount of 1.00, since bool is an int.

01.3 A frozen `Money` value object (core).

A value object is defined by its values, never changes, and guards its own rules: an amount
of money is a `Decimal` rounded to cents plus a currency code, and two amounts in different
currencies can be neither added nor compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import total_ordering

CENT = Decimal("0.01")
CURRENCY_RE = re.compile(r"[A-Z]{3}")


class CurrencyMismatchError(ValueError):
    """Two amounts in different currencies met in an operation that needs one currency."""

    def __init__(self, left: str, right: str, operation: str) -> None:
        super().__init__(
            f"cannot {operation} {left} and {right}: "
            "convert one amount to the other's currency first"
        )
        self.left = left
        self.right = right


@total_ordering
@dataclass(frozen=True)
class Money:
    """An amount in one currency.

    - `amount`: a Decimal, or an int or str that is converted to one ("12.5" -> Decimal("12.50"));
      it is rounded to cents with banker's rounding (ROUND_HALF_EVEN). Any other type (a bool,
      None) is a TypeError whose message mentions "amount"; a float is a TypeError
      (0.1 is not exactly representable: the caller must say what they mean with a str or
      Decimal); text that is not a number, NaN or infinity is a ValueError.
    - `currency`: three uppercase letters (ISO 4217, e.g. "EUR"); anything else is a ValueError.

    Money is immutable and hashable. `==` compares amount and currency (1 EUR != 1 USD).
    `+`, `-`, `<`, `<=`, `>`, `>=` need the same currency, else CurrencyMismatchError.
    `money * n` and `n * money` take an int or Decimal factor (the result is rounded to cents);
    multiplying by a float or by Money is a TypeError. `-money` negates. `str(money)` is
    "12.50 EUR".
    """

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        # A frozen dataclass forbids attribute assignment, even in __post_init__;
        # object.__setattr__ is the documented way to normalise fields at construction.
        object.__setattr__(self, "amount", _to_cents(self.amount))
        if not isinstance(self.currency, str) or not CURRENCY_RE.fullmatch(self.currency):
            raise ValueError(
                f"currency must be three uppercase letters such as 'EUR', got {self.currency!r}"
            )

    @classmethod
    def zero(cls, currency: str) -> Money:
        """0.00 in `currency`, the start value of a sum: `sum(items, Money.zero("EUR"))`."""
        return cls(Decimal(0), currency)

    def _same_currency(self, other: Money, operation: str) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatchError(self.currency, other.currency, operation)

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented  # lets Python try other.__radd__, then raise TypeError
        self._same_currency(other, "add")
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "subtract")
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: object) -> Money:
        # bool is an int subclass, but "price * True" is almost certainly a bug.
        if isinstance(factor, bool) or not isinstance(factor, int | Decimal):
            return NotImplemented
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: object) -> bool:
        # total_ordering derives <=, >, >= from this and the dataclass's __eq__.
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compare")
        return self.amount < other.amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def split(self, parts: int) -> list[Money]:
        """Splits into `parts` amounts that sum exactly to this one, larger parts first.

        The parts differ by at most one cent: 10.00 EUR in 3 -> 3.34, 3.33, 3.33.
        `parts` below 1 is a ValueError.
        """
        if parts < 1:
            raise ValueError(f"split needs at least one part, got {parts}")
        cents = int(self.amount / CENT)
        # divmod floors, so this also works for negative amounts: the remainder is never negative.
        base, remainder = divmod(cents, parts)
        return [
            Money((base + (1 if i < remainder else 0)) * CENT, self.currency) for i in range(parts)
        ]


def _to_cents(value: object) -> Decimal:
    if isinstance(value, float):
        raise TypeError(
            f"use a str or Decimal for money, not the float {value!r}: floats are inexact"
        )
    if not isinstance(value, Decimal | int | str):
        raise TypeError(f"amount must be a Decimal, int or str, got {type(value).__name__}")
    try:
        amount = Decimal(value)
    except InvalidOperation as error:
        raise ValueError(f"amount {value!r} is not a number") from error
    if not amount.is_finite():
        raise ValueError(f"amount must be a finite number, got {value!r}")
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)
