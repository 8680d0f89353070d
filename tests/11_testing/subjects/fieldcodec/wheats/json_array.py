"""A correct codec that writes the fields as a JSON array with every non-ASCII character
escaped."""

from __future__ import annotations

import json


def encode(fields: list[str]) -> str:
    # ensure_ascii escapes everything beyond ASCII and JSON escapes control characters; DEL
    # (0x7f) is the one unprintable ASCII character JSON leaves as it is.
    return json.dumps(fields, ensure_ascii=True).replace("\x7f", "\\u007f")


def decode(line: str) -> list[str]:
    fields = json.loads(line)
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise ValueError("not a list of strings")
    return fields
