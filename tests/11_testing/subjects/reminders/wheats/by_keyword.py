"""A correct send_reminders that calls the mailer by keyword, with its own subject's wording."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

log = logging.getLogger("shop.reminders")


class MailError(Exception):
    pass


class SmtpMailer:
    def __init__(self, host: str, port: int = 25, sender: str = "billing@shop.test") -> None:
        self.host, self.port, self.sender = host, port, sender

    def send(self, to: str, subject: str, body: str) -> None:
        raise MailError("this stand-in has no server")


@dataclass
class Invoice:
    id: str
    email: str
    due: date
    paid: bool = False
    reminded: bool = False


def today() -> date:
    return date.today()


def _needs_reminder(invoice: Invoice, day: date) -> bool:
    return not (invoice.paid or invoice.reminded) and invoice.due + timedelta(days=7) <= day


def send_reminders(invoices: Iterable[Invoice], mailer: Any, on: date | None = None) -> list[str]:
    day = today() if on is None else on
    due = [invoice for invoice in invoices if _needs_reminder(invoice, day)]
    sent = []
    for invoice in due:
        try:
            mailer.send(
                to=invoice.email,
                subject=f"Reminder: payment for {invoice.id}",
                body="Our records show this invoice unpaid.",
            )
        except MailError:
            log.warning("reminder for %s failed", invoice.id, exc_info=True)
        else:
            invoice.reminded = True
            sent.append(invoice.id)
    return sent
