"""Lists of text fields written as one line of printable ASCII: the code under test of
exercise 11.6 (read it, then test it)."""

from __future__ import annotations

from urllib.parse import quote, unquote

MARK = "="  # starts every line but the empty list's: [] is "", [""] is "="


def encode(fields: list[str]) -> str:
    """One line of printable ASCII from which :func:`decode` gives ``fields`` back.

    - ``decode(encode(fields)) == fields`` for every list of strings: empty or not, with empty
      strings, spaces, commas, percent signs, line breaks, accents, emoji... (lone surrogates,
      which are not text, excepted).
    - Every character of the line is printable ASCII, from ``" "`` to ``"~"``: the line fits in
      a log line or an HTTP header.

    What the line looks like is not part of the contract: another correct codec writes
    another line.
    """
    if not fields:
        return ""
    return MARK + ",".join(quote(field, safe=" ") for field in fields)


def decode(line: str) -> list[str]:
    """The fields that :func:`encode` wrote into ``line`` (only ever given such a line)."""
    if not line:
        return []
    if not line.startswith(MARK):
        raise ValueError(f"not an encoded line: {line[:40]!r}")
    return [unquote(part, errors="strict") for part in line[len(MARK) :].split(",")]
