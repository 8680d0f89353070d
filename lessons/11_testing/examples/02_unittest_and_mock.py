"""02 · unittest and unittest.mock: TestCase, patch, autospec, and when not to mock.

    uv run python lessons/11_testing/examples/02_unittest_and_mock.py

First it shows the difference autospec makes (a plain Mock accepts a call the real object
would refuse), then runs a small unittest suite: one test with a mock at the edge of the
system, one with a fake instead of a mock, one that patches a function where it is looked up.
"""

# ruff: noqa: PT009, PT027 - unittest asserts with its own methods, as this example shows

from __future__ import annotations

import time
import unittest
from dataclasses import dataclass, field
from unittest import mock

# -- the code under test -------------------------------------------------------------------


class PaymentGateway:
    """Talks to a payment provider over the network: the edge of our system."""

    def charge(self, account: str, cents: int, *, idempotency_key: str) -> str:
        raise RuntimeError("no network in this example")


@dataclass
class OrderBook:
    """An in-memory stand-in for a database table: a fake, which behaves like the real thing."""

    paid: dict[str, str] = field(default_factory=dict)

    def mark_paid(self, order_id: str, receipt: str) -> None:
        self.paid[order_id] = receipt


def now() -> float:
    return time.time()


def pay(order_id: str, account: str, cents: int, gateway: PaymentGateway, book: OrderBook) -> str:
    """Charges once per order (the order id is the idempotency key) and records the receipt."""
    if cents <= 0:
        raise ValueError("nothing to charge")
    receipt = gateway.charge(account, cents, idempotency_key=order_id)
    book.mark_paid(order_id, f"{receipt}@{now():.0f}")
    return receipt


# -- why autospec ----------------------------------------------------------------------------


def show_autospec() -> None:
    plain = mock.Mock()
    plain.charge("acct-1", 500, idem_key="o-1")  # a typo in a keyword: a plain Mock says nothing
    print("plain Mock accepted charge(..., idem_key=...):", plain.charge.called)
    checked = mock.create_autospec(PaymentGateway, instance=True)
    try:
        checked.charge("acct-1", 500, idem_key="o-1")
    except TypeError as error:
        print("autospec refused the same call:", error)
    checked.charge("acct-1", 500, idempotency_key="o-1")
    # autospec binds calls to the real signature: by position or by keyword, they compare equal
    checked.charge.assert_called_once_with(account="acct-1", cents=500, idempotency_key="o-1")
    print("autospec: the call by position matches an assertion written by keyword")


# -- tests -----------------------------------------------------------------------------------


class PayTest(unittest.TestCase):
    def setUp(self) -> None:
        self.gateway = mock.create_autospec(PaymentGateway, instance=True)
        self.gateway.charge.return_value = "rcpt-42"
        self.book = OrderBook()  # a fake: no need to mock what we can run for real

    def test_charges_once_with_the_order_as_key(self) -> None:
        receipt = pay("o-1", "acct-1", 500, self.gateway, self.book)
        self.assertEqual(receipt, "rcpt-42")
        self.gateway.charge.assert_called_once_with("acct-1", 500, idempotency_key="o-1")
        self.assertIn("o-1", self.book.paid)  # check the outcome, not how the fake was called

    def test_nothing_to_charge(self) -> None:
        with self.assertRaises(ValueError):
            pay("o-2", "acct-1", 0, self.gateway, self.book)
        self.gateway.charge.assert_not_called()

    def test_a_failing_gateway_records_nothing(self) -> None:
        self.gateway.charge.side_effect = ConnectionError("provider down")
        with self.assertRaises(ConnectionError):
            pay("o-3", "acct-1", 500, self.gateway, self.book)
        self.assertEqual(self.book.paid, {})

    # patch where the name is looked up: pay() calls this module's now(), so patch it here
    @mock.patch(f"{__name__}.now", return_value=1_700_000_000.0)
    def test_the_receipt_records_the_time(self, fake_now: mock.Mock) -> None:
        pay("o-4", "acct-1", 500, self.gateway, self.book)
        self.assertEqual(self.book.paid["o-4"], "rcpt-42@1700000000")
        fake_now.assert_called_once_with()


if __name__ == "__main__":
    show_autospec()
    print()
    result = unittest.main(argv=["02_unittest_and_mock"], exit=False, verbosity=2).result
    print(f"{result.testsRun} tests, {len(result.failures) + len(result.errors)} failed")
    raise SystemExit(0 if result.wasSuccessful() else 1)
