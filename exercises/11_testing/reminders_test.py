"""11.4 Test payment reminders (core): ``unittest.TestCase``, and ``unittest.mock`` where the
code meets the outside world: an autospec'd mailer, and ``patch`` for today's date.

The code under test is ``reminders.py`` beside this file; the ``send_reminders`` docstring is
the contract. It sends mail through an ``SmtpMailer``, which a test must never really use:
give it a mock made with ``mock.create_autospec(reminders.SmtpMailer, instance=True)``. An
autospec'd mock has the real methods' signatures, so a call the real mailer would refuse fails
in your test too, and ``assert_called_once_with`` treats a call by position and a call by
keyword alike. Correct implementations do both, and word the subject as they like: match the
parts the contract fixes (``mock.ANY``, or a small matcher object with an ``__eq__``).

Pytest runs ``unittest.TestCase`` classes as they are; ``setUp`` runs before each test method.
Make the dates of your invoices fixed ones in the past, and pass ``on=``, except where the test
is about the default (there, patch ``reminders.today`` with ``mock.patch.object``).
"""

from __future__ import annotations

import unittest
from datetime import date, timedelta  # noqa: F401 - the tests you write will use them
from unittest import mock  # noqa: F401

from journey.targets import load

reminders = load(__file__, "reminders")


class SendRemindersTest(unittest.TestCase):
    def setUp(self) -> None:
        """Runs before each test: make ``self.mailer`` an autospec'd ``SmtpMailer``."""
        raise NotImplementedError("11.4: self.mailer = mock.create_autospec(...)")

    def test_reminds_an_invoice_7_days_overdue(self) -> None:
        """Seven days after the due date: one reminder to the invoice's email, with its id in
        the subject; it is returned and the invoice is marked reminded."""
        raise NotImplementedError("11.4: call send_reminders with on=due + 7 days")

    def test_does_not_remind_6_days_overdue(self) -> None:
        """Six days after the due date: no mail, nothing returned, not marked."""
        raise NotImplementedError("11.4: call send_reminders with on=due + 6 days")

    def test_skips_paid_and_reminded_invoices(self) -> None:
        """Paid invoices and invoices already reminded get no mail, however late."""
        raise NotImplementedError("11.4: check that the mailer is not called")

    def test_reminds_each_invoice_once(self) -> None:
        """Two calls in a row on the same invoices: the second sends nothing."""
        raise NotImplementedError("11.4: call twice and count the mails")

    def test_a_failed_send_is_logged_and_the_others_go_on(self) -> None:
        """The mailer raises ``reminders.MailError`` for the first of two invoices (a
        ``side_effect`` list): a warning on the ``"shop.reminders"`` logger
        (``self.assertLogs``), the second is still reminded, the first stays unreminded."""
        raise NotImplementedError("11.4: give self.mailer.send a side_effect")

    def test_the_default_day_is_today_at_each_call(self) -> None:
        """Without ``on``, the day is ``reminders.today()`` at each call: patch it to two
        different days in turn and check that each call uses its own."""
        raise NotImplementedError("11.4: mock.patch.object(reminders, 'today', ...) twice")
