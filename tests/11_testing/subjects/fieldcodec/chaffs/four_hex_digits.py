"""Escapes each character as four hex digits, too few for those beyond U+FFFF such as emoji."""

from __future__ import annotations

import re

MARK = "="
KEPT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _.-~")
ESCAPED = re.compile(r"%u([0-9A-F]{4})")


def _escape(field: str) -> str:
    return "".join(char if char in KEPT else f"%u{ord(char):04X}" for char in field)


def encode(fields: list[str]) -> str:
    if not fields:
        return ""
    return MARK + ",".join(_escape(field) for field in fields)


def decode(line: str) -> list[str]:
    if not line:
        return []
    if not line.startswith(MARK):
        raise ValueError(f"not an encoded line: {line[:40]!r}")
    fields = line[len(MARK) :].split(",")
    return [ESCAPED.sub(lambda found: chr(int(found[1], 16)), field) for field in fields]
