"""Leaves characters beyond ASCII as they are (é, €, emoji), so the line is not ASCII."""

from __future__ import annotations

from urllib.parse import unquote

MARK = "="


def _escape(field: str) -> str:
    # only what would break the line: the separator, the escape sign, control characters
    return "".join(
        f"%{ord(char):02X}" if char in "%," or (char.isascii() and not char.isprintable()) else char
        for char in field
    )


def encode(fields: list[str]) -> str:
    if not fields:
        return ""
    return MARK + ",".join(_escape(field) for field in fields)


def decode(line: str) -> list[str]:
    if not line:
        return []
    if not line.startswith(MARK):
        raise ValueError(f"not an encoded line: {line[:40]!r}")
    return [unquote(part, errors="strict") for part in line[len(MARK) :].split(",")]
