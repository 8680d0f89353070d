"""04.5 — A money transfer that is atomic and safe under concurrent transfers (psycopg 3).

Amounts are whole cents (int). Every function takes a ``psycopg.Connection`` in autocommit
mode: open your own transaction with ``with conn.transaction():`` where you need one.

``transfer`` must be:

- atomic: both balance updates happen in ONE transaction, so a failure at any point (an
  unknown account, too little money, a crash) leaves every balance as it was;
- safe under concurrency: many transfers run at once, each on its own connection. No balance
  may ever go negative and the total must never change. Check the balance only while holding
  a row lock on it (``SELECT ... FOR UPDATE``), and lock the two rows in one consistent order
  (by id) so two opposite transfers (a->b and b->a) cannot deadlock.
"""

from __future__ import annotations

import psycopg

SCHEMA_SQL = """
CREATE TABLE accounts (
    id      text PRIMARY KEY,
    balance bigint NOT NULL
)
"""


class InsufficientFunds(Exception):
    """The source account holds less than the amount to transfer."""


class UnknownAccount(LookupError):
    """No account has this id."""


def open_account(conn: psycopg.Connection, account_id: str, balance: int = 0) -> None:
    """Creates an account with a starting balance in cents.

    ValueError (its message says "negative") when balance < 0.
    """
    raise NotImplementedError("04.5: INSERT INTO accounts, refusing a negative balance")


def balance(conn: psycopg.Connection, account_id: str) -> int:
    """The account's balance in cents; UnknownAccount when there is no such account."""
    raise NotImplementedError("04.5: SELECT the balance, UnknownAccount when no row")


def total(conn: psycopg.Connection) -> int:
    """The sum of all balances in cents (0 when there are no accounts)."""
    raise NotImplementedError("04.5: SELECT coalesce(sum(balance), 0)")


def transfer(conn: psycopg.Connection, source: str, target: str, amount: int) -> None:
    """Moves ``amount`` cents from ``source`` to ``target``, all or nothing.

    Raises, changing nothing:
    - ValueError("the amount must be positive ...") when amount <= 0, and
      ValueError("... must be different accounts") when source == target;
    - UnknownAccount when either account does not exist;
    - InsufficientFunds when source holds less than amount (exactly the balance is fine).
    """
    raise NotImplementedError("04.5: one transaction, lock both rows in id order, check, update")
