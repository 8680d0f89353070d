"""Expects the reminder's subject word for word; the contract only says it names the invoice."""

# ruff: noqa: PT009 - a unittest.TestCase asserts with its own methods, as this exercise teaches

from __future__ import annotations

import unittest
from datetime import date, timedelta
from typing import Any
from unittest import mock

from journey.targets import load

reminders = load(__file__, "reminders")

_DUE = date(2000, 3, 1)  # long past: a test that used the real date would see it overdue
_GRACE = timedelta(days=7)


class _Containing:
    """Equal to any string that contains ``part``: a matcher for assert_called_with."""

    def __init__(self, part: str) -> None:
        self.part = part

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and self.part in other

    def __repr__(self) -> str:
        return f"<a string containing {self.part!r}>"


class SendRemindersTest(unittest.TestCase):
    def setUp(self) -> None:
        # autospec: the mock has SmtpMailer's methods with their real signatures, so a call
        # the real mailer would refuse fails here too, and calls by position or by keyword
        # compare equal.
        self.mailer = mock.create_autospec(reminders.SmtpMailer, instance=True)

    def _invoice(self, invoice_id: str = "INV-1", **fields: Any) -> Any:
        return reminders.Invoice(invoice_id, f"{invoice_id.lower()}@example.test", _DUE, **fields)

    def test_reminds_an_invoice_7_days_overdue(self) -> None:
        invoice = self._invoice()
        sent = reminders.send_reminders([invoice], self.mailer, on=_DUE + timedelta(days=7))
        self.assertEqual(sent, ["INV-1"])
        self.assertTrue(invoice.reminded)
        self.mailer.send.assert_called_once_with(
            "inv-1@example.test", "Invoice INV-1 is overdue", mock.ANY
        )

    def test_does_not_remind_6_days_overdue(self) -> None:
        invoice = self._invoice()
        sent = reminders.send_reminders([invoice], self.mailer, on=_DUE + timedelta(days=6))
        self.assertEqual(sent, [])
        self.assertFalse(invoice.reminded)
        self.mailer.send.assert_not_called()

    def test_skips_paid_and_reminded_invoices(self) -> None:
        invoices = [self._invoice("INV-1", paid=True), self._invoice("INV-2", reminded=True)]
        sent = reminders.send_reminders(invoices, self.mailer, on=_DUE + timedelta(days=30))
        self.assertEqual(sent, [])
        self.mailer.send.assert_not_called()

    def test_reminds_each_invoice_once(self) -> None:
        invoices = [self._invoice("INV-1"), self._invoice("INV-2")]
        later = _DUE + timedelta(days=10)
        first_round = reminders.send_reminders(invoices, self.mailer, on=later)
        self.assertEqual(first_round, ["INV-1", "INV-2"])
        self.assertEqual(reminders.send_reminders(invoices, self.mailer, on=later), [])
        self.assertEqual(self.mailer.send.call_count, 2)

    def test_a_failed_send_is_logged_and_the_others_go_on(self) -> None:
        first, second = self._invoice("INV-1"), self._invoice("INV-2")
        self.mailer.send.side_effect = [reminders.MailError("server down"), None]
        with self.assertLogs("shop.reminders", level="WARNING"):
            sent = reminders.send_reminders([first, second], self.mailer, on=_DUE + _GRACE)
        self.assertEqual(sent, ["INV-2"])
        self.assertFalse(first.reminded, "a reminder that was not sent is owed still")
        self.assertTrue(second.reminded)

    def test_the_default_day_is_today_at_each_call(self) -> None:
        invoice = self._invoice()
        with mock.patch.object(reminders, "today", autospec=True, return_value=_DUE):
            self.assertEqual(reminders.send_reminders([invoice], self.mailer), [])
        with mock.patch.object(reminders, "today", autospec=True, return_value=_DUE + _GRACE):
            self.assertEqual(reminders.send_reminders([invoice], self.mailer), ["INV-1"])
