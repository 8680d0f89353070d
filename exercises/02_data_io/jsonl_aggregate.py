"""02.6 — A JSON Lines aggregator that runs in bounded memory.

JSON Lines (``.jsonl``) is one JSON value per line: logs, exports, event dumps. Such files can
be far larger than memory, so a program must stream them: read one line, fold it into running
totals, forget it. Each line here is an object such as::

    {"customer": "c-17", "amount": "12.50", "type": "order.placed"}

Other keys are ignored. Real files are messy: malformed lines are counted (with a few of their
line numbers as examples) and skipped, never fatal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

MAX_REPORTED = 10


@dataclass
class Totals:
    """What a pass over a JSON Lines file found.

    ``records``: good lines; ``malformed``: bad lines (all of them counted);
    ``malformed_lines``: the line numbers (from 1) of the first MAX_REPORTED bad lines only,
    so a file of a million bad lines does not fill memory with line numbers;
    ``by_customer``: the sum of ``amount`` per customer.
    """

    records: int = 0
    malformed: int = 0
    malformed_lines: list[int] = field(default_factory=list)
    by_customer: dict[str, Decimal] = field(default_factory=dict)


def parse_record(line: str | bytes) -> tuple[str, Decimal] | None:
    """``(customer, amount)`` from one line, or None if the line is malformed.

    Malformed: not valid JSON (or not UTF-8); not an object; ``customer`` missing or not a
    non-empty string; ``amount`` missing, or not a decimal string (``"12.50"``) or an integer.
    A JSON float (``12.5``), a bool, NaN or Infinity are malformed amounts: money must be exact.
    """
    raise NotImplementedError("02.6: parse one line into (customer, amount), or None")


def aggregate_lines(lines: Iterable[str | bytes]) -> Totals:
    """Sums amounts per customer over ``lines`` in one pass, one line at a time.

    Line numbers start at 1 and count every line, blank ones too; blank (whitespace-only)
    lines are skipped, and are not malformed. ``lines`` may be a generator: iterate it once,
    never turn it into a list.
    """
    raise NotImplementedError("02.6: fold each line into the running totals")


def aggregate_file(path: Path) -> Totals:
    """Streams the file at ``path`` through aggregate_lines, never holding the whole file.

    Open it in binary mode (orjson reads bytes; a line of broken UTF-8 is then one malformed
    line, not a crash) and iterate the file object: it yields one line at a time.
    ``read()``, ``readlines()`` or ``read_text()`` would load the whole file into memory.
    """
    raise NotImplementedError("02.6: open the file and stream its lines")


def top_customers(totals: Totals, n: int) -> list[tuple[str, Decimal]]:
    """The ``n`` customers with the largest totals, largest first; equal totals in name order.

    ``n`` negative raises ValueError("n must not be negative ..."); ``n`` larger than the
    number of customers returns them all.
    """
    raise NotImplementedError("02.6: rank customers by total (heapq.nsmallest with a key)")
