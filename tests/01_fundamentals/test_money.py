"""01.3 A frozen Money value object."""

import dataclasses
import operator
from decimal import Decimal

import pytest

from journey.targets import load

money = load(__file__, "money")
Money = money.Money


def eur(amount: str) -> "money.Money":
    return Money(Decimal(amount), "EUR")


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("12.5"), Decimal("12.50")),
        ("12.5", Decimal("12.50")),
        (7, Decimal("7.00")),
        ("0.125", Decimal("0.12")),  # half-even: 0.125 -> 0.12
        ("0.135", Decimal("0.14")),  # half-even: 0.135 -> 0.14
        ("-3", Decimal("-3.00")),
    ],
)
def test_amount_is_a_decimal_rounded_to_cents(amount: object, expected: Decimal) -> None:
    got = Money(amount, "EUR").amount
    assert isinstance(got, Decimal), "the amount is stored as a Decimal"
    assert got == expected, f"Money({amount!r}) keeps {expected} (cents, banker's rounding)"
    assert got.as_tuple().exponent == -2, "the amount has exactly two decimal places"


def test_float_amount_is_refused() -> None:
    with pytest.raises(TypeError, match="float"):
        Money(0.1, "EUR")


@pytest.mark.parametrize("amount", [True, None, [1]])
def test_amounts_of_other_types_are_refused(amount: object) -> None:
    with pytest.raises(TypeError, match="amount"):
        Money(amount, "EUR")  # True is an int to Python, but not an amount of money


@pytest.mark.parametrize("amount", ["ten", "NaN", "Infinity", ""])
def test_non_numbers_are_refused(amount: str) -> None:
    with pytest.raises(ValueError, match="amount"):
        Money(amount, "EUR")


@pytest.mark.parametrize("currency", ["eur", "EURO", "E1R", "", 978])
def test_currency_must_be_three_uppercase_letters(currency: object) -> None:
    with pytest.raises(ValueError, match="currency"):
        Money("1", currency)


def test_money_is_frozen_and_hashable() -> None:
    price = eur("9.99")
    with pytest.raises(dataclasses.FrozenInstanceError):
        price.amount = Decimal("0")  # type: ignore[misc]
    assert len({eur("1"), eur("1.00"), Money("1", "USD")}) == 2, (
        "equal values hash equally: 1 EUR and 1.00 EUR are one set member"
    )


def test_equality_is_by_value() -> None:
    assert eur("1.0") == eur("1.00"), "same amount and currency: equal"
    assert eur("1") != Money("1", "USD"), "1 EUR is not 1 USD"
    assert eur("1") != eur("2")


def test_addition_and_subtraction() -> None:
    assert eur("10.50") + eur("0.75") == eur("11.25")
    assert eur("10.50") - eur("0.75") == eur("9.75")
    assert eur("1") - eur("3") == eur("-2"), "amounts may go negative"
    assert -eur("4.20") == eur("-4.20"), "-money negates the amount"


def test_sum_with_zero_as_start() -> None:
    total = sum([eur("1.10"), eur("2.20"), eur("3.30")], Money.zero("EUR"))
    assert total == eur("6.60"), "0.1 + 0.2 style rounding errors never happen with Decimal"
    assert Money.zero("JPY") == Money("0", "JPY")


@pytest.mark.parametrize("operation", ["add", "subtract", "compare"])
def test_different_currencies_do_not_mix(operation: str) -> None:
    a, b = eur("1"), Money("1", "USD")
    apply = {"add": operator.add, "subtract": operator.sub, "compare": operator.lt}[operation]
    with pytest.raises(money.CurrencyMismatchError) as caught:
        apply(a, b)
    message = str(caught.value)
    assert "EUR" in message, "the error names both currencies"
    assert "USD" in message, "the error names both currencies"
    assert isinstance(caught.value, ValueError), "CurrencyMismatchError is a ValueError"


@pytest.mark.parametrize(
    ("factor", "expected"),
    [
        (3, "30.00"),
        (Decimal("0.5"), "5.00"),
        (Decimal("0.333"), "3.33"),
        (Decimal("0.3337"), "3.34"),
        (Decimal("0.0125"), "0.12"),  # 0.125 -> 0.12: banker's rounding again
        (0, "0.00"),
    ],
)
def test_multiplication(factor: object, expected: str) -> None:
    got = eur("10") * factor
    assert got == eur(expected), "money * factor, rounded to cents"
    assert got.amount.as_tuple().exponent == -2, "a product is rounded to cents too"
    assert factor * eur("10") == eur(expected), "factor * money works too"


@pytest.mark.parametrize("factor", [1.5, True, "2"])
def test_multiplication_by_float_bool_or_str_is_refused(factor: object) -> None:
    with pytest.raises(TypeError):
        eur("10") * factor


def test_money_times_money_is_refused() -> None:
    with pytest.raises(TypeError):
        eur("10") * eur("2")


def test_adding_a_number_is_refused() -> None:
    with pytest.raises(TypeError):
        eur("10") + 5


def test_ordering() -> None:
    prices = [eur("5"), eur("0.99"), eur("12.50")]
    assert sorted(prices) == [eur("0.99"), eur("5"), eur("12.50")], "Money sorts by amount"
    assert eur("1") < eur("2")
    assert eur("2") > eur("1"), "total_ordering derives >, <= and >= from < and =="
    assert eur("2") <= eur("2")
    assert eur("2") >= eur("2")
    assert max(prices) == eur("12.50")


def test_str() -> None:
    assert str(eur("12.5")) == "12.50 EUR"
    assert str(Money("-3", "USD")) == "-3.00 USD"


@pytest.mark.parametrize(
    ("amount", "parts", "expected"),
    [
        ("10", 3, ["3.34", "3.33", "3.33"]),
        ("0.05", 2, ["0.03", "0.02"]),
        ("9", 1, ["9.00"]),
        ("0.02", 3, ["0.01", "0.01", "0.00"]),
        ("-10", 3, ["-3.33", "-3.33", "-3.34"]),
    ],
)
def test_split_loses_no_cent(amount: str, parts: int, expected: list[str]) -> None:
    got = eur(amount).split(parts)
    assert got == [eur(x) for x in expected], "parts differ by at most a cent, larger first"
    assert sum(got, Money.zero("EUR")) == eur(amount), "the parts add up to the whole"


@pytest.mark.parametrize("parts", [0, -2])
def test_split_needs_at_least_one_part(parts: int) -> None:
    with pytest.raises(ValueError, match="part"):
        eur("10").split(parts)
