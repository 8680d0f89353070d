"""Keeps the line number of every malformed line: a broken file fills memory with them.

02.6 — A JSON Lines aggregator that runs in bounded memory (reference solution)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import orjson

MAX_REPORTED = 10


@dataclass
class Totals:
    """What a pass over a JSON Lines file found."""

    records: int = 0
    malformed: int = 0
    malformed_lines: list[int] = field(default_factory=list)
    by_customer: dict[str, Decimal] = field(default_factory=dict)


def parse_record(line: str | bytes) -> tuple[str, Decimal] | None:
    """``(customer, amount)`` from one line, or None if the line is malformed."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(obj, dict):
        return None
    customer, amount = obj.get("customer"), obj.get("amount")
    if not isinstance(customer, str) or not customer:
        return None
    if isinstance(amount, bool):  # bool is an int subclass, but true is not an amount
        return None
    if isinstance(amount, int):
        return customer, Decimal(amount)
    if not isinstance(amount, str):  # floats too: an amount that went through a float is not exact
        return None
    try:
        value = Decimal(amount)
    except InvalidOperation:
        return None
    return (customer, value) if value.is_finite() else None


def aggregate_lines(lines: Iterable[str | bytes]) -> Totals:
    """Sums amounts per customer over ``lines``, one pass, holding one line at a time."""
    totals = Totals()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue  # blank lines (often the last one) are not records
        parsed = parse_record(line)
        if parsed is None:
            totals.malformed += 1
            # keep a few examples, not all of them: a broken file could have millions
            totals.malformed_lines.append(number)
            continue
        customer, amount = parsed
        totals.records += 1
        totals.by_customer[customer] = totals.by_customer.get(customer, Decimal(0)) + amount
    return totals


def aggregate_file(path: Path) -> Totals:
    """Streams ``path`` line by line (never the whole file in memory) through aggregate_lines."""
    # Binary mode: orjson takes bytes directly, and a line of invalid UTF-8 becomes one
    # malformed line instead of a UnicodeDecodeError that ends the whole run.
    with path.open("rb") as handle:
        return aggregate_lines(handle)


def top_customers(totals: Totals, n: int) -> list[tuple[str, Decimal]]:
    """The ``n`` customers with the largest totals, largest first; ties by customer name."""
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}")
    return heapq.nsmallest(n, totals.by_customer.items(), key=lambda kv: (-kv[1], kv[0]))
