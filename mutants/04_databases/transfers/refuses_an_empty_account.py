"""Refuses to open an account with a balance of 0, the default.

04.5 — A money transfer that is atomic and safe under concurrent transfers (psycopg 3).

Atomic: both updates happen in one transaction, so an error leaves nothing half done.
Safe under concurrency: the two account rows are locked (SELECT ... FOR UPDATE) before the
balance is checked, so no other transfer can spend the same money in between; and the rows are
always locked in the same order (by id), so two opposite transfers cannot deadlock.
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
    """Creates an account with a starting balance in cents (>= 0, else ValueError)."""
    if balance <= 0:
        raise ValueError(f"an account cannot open with a negative balance ({balance})")
    with conn.transaction():
        conn.execute("INSERT INTO accounts (id, balance) VALUES (%s, %s)", (account_id, balance))


def balance(conn: psycopg.Connection, account_id: str) -> int:
    """The account's balance in cents; UnknownAccount when there is no such account."""
    row = conn.execute("SELECT balance FROM accounts WHERE id = %s", (account_id,)).fetchone()
    if row is None:
        raise UnknownAccount(account_id)
    return int(row[0])


def total(conn: psycopg.Connection) -> int:
    """The sum of all balances, in cents (0 when there are no accounts)."""
    row = conn.execute("SELECT coalesce(sum(balance), 0) FROM accounts").fetchone()
    assert row is not None
    return int(row[0])


def transfer(conn: psycopg.Connection, source: str, target: str, amount: int) -> None:
    """Moves ``amount`` cents from ``source`` to ``target`` in one transaction."""
    if amount <= 0:
        raise ValueError(f"the amount must be positive, not {amount}")
    if source == target:
        raise ValueError("source and target must be different accounts")
    with conn.transaction():
        # lock both rows in id order: every transfer takes its locks in the same global order,
        # so two transfers can wait for each other but never deadlock
        rows = conn.execute(
            "SELECT id, balance FROM accounts WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
            ([source, target],),
        ).fetchall()
        balances = {account_id: int(value) for account_id, value in rows}
        for account_id in (source, target):
            if account_id not in balances:
                raise UnknownAccount(account_id)
        if balances[source] < amount:
            raise InsufficientFunds(
                f"{source} holds {balances[source]} cents, cannot transfer {amount}"
            )
        conn.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, source))
        conn.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, target))
