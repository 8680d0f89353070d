"""02.1 — CSV to JSON with type coercion and a report of bad rows.

A CSV file is only text: every cell is a string. Turning it into JSON that other programs can
trust means converting each column to its type (``"3"`` -> ``3``) and, for the rows that do not
convert, saying exactly which row and why, instead of crashing on the first one or silently
dropping it.

A *schema* maps column names to one of ``str``, ``int``, ``float`` or ``bool``::

    schema = {"sku": str, "quantity": int, "price": float, "active": bool}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The column types a schema may name. JSON has no other scalar types worth coercing to.
Kind = type[str] | type[int] | type[float] | type[bool]
TRUE_WORDS = frozenset({"true", "yes", "1"})
FALSE_WORDS = frozenset({"false", "no", "0"})


@dataclass(frozen=True)
class BadRow:
    """A row that could not be converted: where it is, and every reason why.

    ``line`` is the line number in the file (the header is line 1, so the first data row is
    line 2); csv.reader's ``line_num`` gives it. ``reasons`` lists every problem of the row,
    each starting with the column name, e.g. ``("quantity: 'ten' is not an integer",)``.
    """

    line: int
    reasons: tuple[str, ...]


@dataclass
class Conversion:
    """The rows that converted (as JSON-ready dicts) and the rows that did not."""

    records: list[dict[str, object]] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)


def coerce(text: str, kind: Kind) -> str | int | float | bool:
    """Converts one cell to ``kind``; raises ValueError with a short reason otherwise.

    - Surrounding whitespace is stripped first, for every kind.
    - ``str``: the stripped text (an empty string is fine).
    - ``int``: ``" 42 "`` -> ``42``; ``"4.0"`` and ``"ten"`` are errors.
    - ``float``: ``"9.5"`` -> ``9.5``; ``"nan"`` and ``"inf"`` are errors, because JSON has
      no NaN or Infinity (json.dumps would write invalid JSON).
    - ``bool``: the words in TRUE_WORDS / FALSE_WORDS, in any case (``"Yes"`` -> True); any
      other word is an error.
    - An empty cell is an error for ``int``, ``float`` and ``bool`` (reason: ``"is empty"``).

    The ValueError's message is the reason, without the column name, e.g.
    ``"'ten' is not an integer"``: the caller adds the column.
    """
    raise NotImplementedError("02.1: convert one cell to its kind, or raise ValueError")


def convert_rows(lines: Iterable[str], schema: Mapping[str, Kind]) -> Conversion:
    """Reads CSV text (header first) and coerces each column named in ``schema``.

    ``lines`` is anything csv.reader accepts: an open file, or a list of strings.

    - The first row is the header; names are stripped of whitespace. No header at all, or a
      header without one of the schema's columns: raise ValueError naming what is missing.
    - Columns that the schema does not name pass through as (stripped) strings.
    - Blank lines are skipped: neither a record nor a bad row.
    - A row with the wrong number of fields is bad: ``"expected 3 fields, got 2"``.
    - A row whose cells do not coerce is bad, with one reason per failing cell, in column
      order, each as ``"<column>: <reason from coerce>"``.
    - Good rows become dicts ``{column: value}`` in ``records``, in file order.
    """
    raise NotImplementedError("02.1: convert each CSV row, collecting bad rows with reasons")


def csv_file_to_json(source: Path, target: Path, schema: Mapping[str, Kind]) -> list[BadRow]:
    """Converts a CSV file into a JSON array file and returns the rows it had to leave out.

    Read ``source`` as UTF-8 with ``newline=""`` (what the csv module asks for); write
    ``target`` as a UTF-8 JSON array of the good records (indented, non-ASCII kept as is).
    """
    raise NotImplementedError("02.1: read the CSV file, write the JSON file, return bad rows")
