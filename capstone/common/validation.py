"""Input types that keep bad input at the door as a 422 (lesson 03: validate at the edge).

PostgreSQL cannot store NUL in text and its ``bigint`` stops at 2**63 - 1: a NUL byte or a huge
id that reached a query would be a 500. The rules are lesson 03's wire models (exercise 03.7,
``gateway_models``, through capstone.pieces); this module names them for the inputs that are
not a model of the piece: forms, path parameters, headers, the gateway's own user bodies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from capstone.pieces import piece

wire = piece("gateway_models")
MAX_ID: int = wire.MAX_ID
# printable ASCII, no spaces: safe in a header, a key and a log line
ASCII_TOKEN = r"^[\x21-\x7e]+$"

if TYPE_CHECKING:  # a piece's types are not visible to mypy: see capstone.contracts.catalog
    SafeStr = str
else:
    # text without NUL or control characters: every str a client sends (body, form, path, query)
    SafeStr = wire.SafeStr
