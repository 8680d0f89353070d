"""Paged lists (``GET /orders``, ``GET /notifications``): a ``limit`` and an opaque ``cursor``.

A page answers ``{"items": [...], "next_cursor": "..."}``; ``next_cursor`` is null on the last
page. The cursor is the position after the page's last item (keyset paging: no ``OFFSET`` scan,
and rows added meanwhile neither repeat nor go missing), as base64url of a short JSON array.
Clients must treat it as opaque; only the service that made it reads it.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

import orjson
from fastapi import Query

from capstone.common.validation import MAX_ID

PAGE_DEFAULT = 20
PRODUCT_PAGE_DEFAULT = 50  # a catalog is browsed in longer pages than one's own orders
PAGE_MAX = 100
CURSOR_MAX_LENGTH = 200

Limit = Annotated[int, Query(ge=1, le=PAGE_MAX, description="items per page")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=CURSOR_MAX_LENGTH,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="next_cursor of the previous page",
    ),
]


class InvalidCursor(ValueError):
    """The cursor was not made by this service (or was changed on the way)."""


def encode_cursor(*position: Any) -> str:
    raw = orjson.dumps(list(position))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> list[Any]:
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        position = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError) as error:
        raise InvalidCursor("the cursor is not one this service made") from error
    if not isinstance(position, list):
        raise InvalidCursor("the cursor is not one this service made")
    return position


def page_params(limit: int, cursor: str | None) -> dict[str, Any]:
    """The query that asks a service for a page: ``limit``, and ``cursor`` when there is one."""
    return {"limit": limit} if cursor is None else {"limit": limit, "cursor": cursor}


def decode_id_cursor(cursor: str | None) -> int:
    """For a list in id order: the id after which the page starts, 0 for the first page (no
    cursor). :class:`InvalidCursor` unless the cursor holds one id in ``bigint``'s range."""
    if cursor is None:
        return 0
    position = decode_cursor(cursor)
    # a bool is an int to Python, never an id
    if len(position) != 1 or type(position[0]) is not int or not 0 <= position[0] <= MAX_ID:
        raise InvalidCursor("the cursor is not one this service made")
    return position[0]
