"""URL slugs made from titles: the code under test of exercise 11.1 (read it, then test it)."""

from __future__ import annotations

import re
import unicodedata

NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


def slugify(title: str, max_length: int = 50) -> str:
    """The slug of ``title``: ``slugify("Café au lait, 2 €!") == "cafe-au-lait-2"``.

    - Accented letters lose their accent (``é`` -> ``e``). Other non-ASCII characters
      (``ß``, ``€``) are dropped or count as separators: which one is not part of the contract.
    - Letters are lowercased.
    - Every run of characters that are not ``a-z`` or ``0-9`` becomes one hyphen.
    - The slug never starts or ends with a hyphen.
    - It has at most ``max_length`` characters; cutting it never leaves a hyphen at the end.
    - A title without a letter or digit gives ``""``.
    - ``max_length`` below 1 is a ``ValueError`` (its message is not part of the contract).
    """
    if max_length < 1:
        raise ValueError(f"max_length must be at least 1, not {max_length}")
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = NOT_ALPHANUMERIC.sub("-", folded.lower()).strip("-")
    return slug[:max_length].rstrip("-")
