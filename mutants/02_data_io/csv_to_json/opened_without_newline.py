"""Opens the CSV without newline='': a quoted \r\n inside a value comes back as \n.

02.1 — CSV to JSON with type coercion and a report of bad rows (reference solution)."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The column types a schema may name. JSON has no other scalar types worth coercing to.
Kind = type[str] | type[int] | type[float] | type[bool]
TRUE_WORDS = frozenset({"true", "yes", "1"})
FALSE_WORDS = frozenset({"false", "no", "0"})


@dataclass(frozen=True)
class BadRow:
    """A row that could not be converted: where it is, and every reason why."""

    line: int
    reasons: tuple[str, ...]


@dataclass
class Conversion:
    """The rows that converted (as JSON-ready dicts) and the rows that did not."""

    records: list[dict[str, object]] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)


def coerce(text: str, kind: Kind) -> str | int | float | bool:
    """Converts one cell to ``kind``; raises ValueError with a short reason otherwise."""
    value = text.strip()
    if kind is str:
        return value
    if value == "":
        raise ValueError("is empty")
    if kind is bool:
        lowered = value.lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise ValueError(f"{value!r} is not a boolean (use true/false, yes/no or 1/0)")
    if kind is int:
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an integer") from None
    if kind is float:
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        # JSON has no NaN or Infinity: json.dumps would write invalid JSON for them.
        if not math.isfinite(number):
            raise ValueError(f"{value!r} is not a finite number")
        return number
    raise TypeError(f"unsupported column type {kind!r}")


def convert_rows(lines: Iterable[str], schema: Mapping[str, Kind]) -> Conversion:
    """Reads CSV text (header first) and coerces each column named in ``schema``."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise ValueError("the CSV has no header row")
    header = [name.strip() for name in header]
    missing = [name for name in schema if name not in header]
    if missing:
        raise ValueError(f"the header lacks column(s): {', '.join(missing)}")

    result = Conversion()
    for row in reader:
        if not row:  # a blank line: nothing to convert, nothing to report
            continue
        record, reasons = _convert_row(row, header, schema)
        if reasons:
            # reader.line_num is the line the record ends on, as an editor shows it
            result.bad_rows.append(BadRow(line=reader.line_num, reasons=tuple(reasons)))
        else:
            result.records.append(record)
    return result


def _convert_row(
    row: list[str], header: list[str], schema: Mapping[str, Kind]
) -> tuple[dict[str, object], list[str]]:
    if len(row) != len(header):
        return {}, [f"expected {len(header)} fields, got {len(row)}"]
    record: dict[str, object] = {}
    reasons: list[str] = []
    for name, text in zip(header, row, strict=True):
        kind = schema.get(name, str)  # columns outside the schema pass through as text
        try:
            record[name] = coerce(text, kind)
        except ValueError as error:
            reasons.append(f"{name}: {error}")
    return record, reasons


def csv_file_to_json(source: Path, target: Path, schema: Mapping[str, Kind]) -> list[BadRow]:
    """Converts a CSV file into a JSON array file and returns the rows it had to leave out."""
    # newline="" lets the csv module see the file's own line endings (quoted newlines too)
    with source.open(encoding="utf-8") as handle:
        result = convert_rows(handle, schema)
    target.write_text(
        json.dumps(result.records, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return result.bad_rows
