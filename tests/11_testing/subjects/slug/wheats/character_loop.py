"""A correct slugify that walks the characters one by one (another wording of its error)."""

from __future__ import annotations

import unicodedata


def slugify(title: str, max_length: int = 50) -> str:
    if max_length <= 0:
        raise ValueError("a slug needs room for one character")
    parts: list[str] = []
    gap = False
    for char in unicodedata.normalize("NFKD", title.lower()):
        if char.isascii() and char.isalnum():
            if gap and parts:
                parts.append("-")
            parts.append(char)
            gap = False
        elif not unicodedata.combining(char):
            gap = True
    slug = "".join(parts)[:max_length]
    return slug.rstrip("-")
