"""01.3 A frozen `Money` value object (core).

A value object is defined by its values, never changes, and guards its own rules: an amount
of money is a `Decimal` rounded to cents plus a currency code, and two amounts in different
currencies can be neither added nor compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
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
      that mentions "float" (0.1 is not exactly representable: the caller must say what they
      mean with a str or Decimal); text that is not a number, NaN or infinity is a ValueError
      whose message mentions "amount".
    - `currency`: three uppercase letters (ISO 4217, e.g. "EUR"); anything else is a ValueError
      whose message mentions "currency".

    Money is immutable and hashable. `==` compares amount and currency (1 EUR != 1 USD).
    `+`, `-`, `<`, `<=`, `>`, `>=` need the same currency, else CurrencyMismatchError
    (operation "add", "subtract" or "compare"). Adding a plain number is a TypeError.
    `money * n` and `n * money` take an int or Decimal factor (the result is rounded to cents);
    multiplying by a float, a bool, a str or by Money is a TypeError. `-money` negates.
    `str(money)` is "12.50 EUR".
    """

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        raise NotImplementedError(
            "01.3: convert and round the amount (object.__setattr__), validate the currency"
        )

    @classmethod
    def zero(cls, currency: str) -> Money:
        """0.00 in `currency`, the start value of a sum: `sum(items, Money.zero("EUR"))`."""
        raise NotImplementedError("01.3: return 0.00 in currency")

    def __add__(self, other: object) -> Money:
        raise NotImplementedError("01.3: add two amounts of the same currency")

    def __sub__(self, other: object) -> Money:
        raise NotImplementedError("01.3: subtract two amounts of the same currency")

    def __neg__(self) -> Money:
        raise NotImplementedError("01.3: negate the amount")

    def __mul__(self, factor: object) -> Money:
        raise NotImplementedError("01.3: multiply by an int or Decimal factor")

    def __rmul__(self, factor: object) -> Money:
        raise NotImplementedError("01.3: factor * money is money * factor")

    def __lt__(self, other: object) -> bool:
        raise NotImplementedError("01.3: compare two amounts of the same currency")

    def __str__(self) -> str:
        raise NotImplementedError('01.3: format as "12.50 EUR"')

    def split(self, parts: int) -> list[Money]:
        """Splits into `parts` amounts that sum exactly to this one, larger parts first.

        The parts differ by at most one cent: 10.00 EUR in 3 -> 3.34, 3.33, 3.33.
        `parts` below 1 is a ValueError that mentions "part".
        """
        raise NotImplementedError("01.3: split into parts that differ by at most one cent")
