"""Payment reminders for overdue invoices: the code under test of exercise 11.4 (read it, then
test it)."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage

GRACE = timedelta(days=7)
LOGGER_NAME = "shop.reminders"
log = logging.getLogger(LOGGER_NAME)


class MailError(Exception):
    """A message could not be sent."""


class SmtpMailer:
    """Sends mail through an SMTP server: the real thing, which no test should ever call."""

    def __init__(self, host: str, port: int = 25, sender: str = "billing@shop.test") -> None:
        self.host = host
        self.port = port
        self.sender = sender

    def send(self, to: str, subject: str, body: str) -> None:
        """Sends one message; ``MailError`` when the server cannot be reached or refuses it."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=10) as server:
                server.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise MailError(f"could not send to {to}: {error}") from error


@dataclass
class Invoice:
    id: str
    email: str
    due: date
    paid: bool = False
    reminded: bool = False


def today() -> date:
    """Today's date: a function of its own, so that a test can patch it."""
    return date.today()


def send_reminders(
    invoices: Iterable[Invoice], mailer: SmtpMailer, on: date | None = None
) -> list[str]:
    """Sends one reminder for each invoice that needs one; returns their ids, in order.

    - An invoice needs a reminder when it is not paid, has not been reminded, and ``on`` is
      at least 7 days (``GRACE``) after its due date: due on March 1st, it is reminded from
      March 8th on, March 8th included.
    - ``on`` defaults to :func:`today`, looked up at each call.
    - The reminder is ``mailer.send(to, subject, body)`` (by position or by keyword: both are
      correct) to the invoice's ``email``, with a subject that contains the invoice's ``id``;
      the rest of the wording is free.
    - A reminder sent marks the invoice ``reminded = True``.
    - A ``MailError`` is logged as a warning on the ``"shop.reminders"`` logger and does not
      stop the other reminders; that invoice stays unreminded and is not in the list returned.
      Any other exception is not caught.
    """
    day = on if on is not None else today()
    sent: list[str] = []
    for invoice in invoices:
        if invoice.paid or invoice.reminded or day - invoice.due < GRACE:
            continue
        try:
            mailer.send(
                invoice.email,
                f"Invoice {invoice.id} is overdue",
                f"Invoice {invoice.id} was due on {invoice.due:%d %B %Y}. Please pay it soon.",
            )
        except MailError as error:
            log.warning("no reminder for invoice %s: %s", invoice.id, error)
            continue
        invoice.reminded = True
        sent.append(invoice.id)
    return sent
