"""04.4 — Keyset (cursor) pagination with SQLAlchemy Core.

``products`` are listed cheapest first; products with the same price are ordered by id, so
the order is total and every row has one well-defined position: ``(price_cents, id)``.

A page never uses OFFSET. It asks for the rows *after* the last row of the previous page,
``WHERE (price_cents, id) > (last_price, last_id)``: one index seek, however deep the page,
and rows inserted in front of the cursor cannot push old rows onto the next page.

The cursor handed to clients is opaque: URL-safe base64 of the JSON ``[price_cents, id]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Column, Connection, Identity, Index, Integer, MetaData, Table, Text

MAX_PAGE_SIZE = 100

metadata = MetaData()

products = Table(
    "products",
    metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("name", Text, nullable=False),
    Column("price_cents", Integer, nullable=False),
)
# the index matches the sort order, so "rows after (price, id)" is one index seek
Index("products_price_id", products.c.price_cents, products.c.id)


class InvalidCursor(ValueError):
    """The cursor was not made by encode_cursor (tampered, truncated or garbage)."""


@dataclass(frozen=True)
class ProductRow:
    id: int
    name: str
    price_cents: int


@dataclass(frozen=True)
class Page:
    items: list[ProductRow]
    next_cursor: str | None  # None on the last page


def encode_cursor(price_cents: int, product_id: int) -> str:
    """An opaque, URL-safe token naming the position right after this row."""
    raise NotImplementedError("04.4: base64.urlsafe_b64encode of json.dumps([price, id])")


def decode_cursor(cursor: str) -> tuple[int, int]:
    """The ``(price_cents, id)`` inside a cursor made by encode_cursor.

    Anything else (not base64, not JSON, not a list of exactly two ints) raises InvalidCursor.
    """
    raise NotImplementedError("04.4: decode, validate the shape, raise InvalidCursor on failure")


def fetch_page(conn: Connection, limit: int, after: str | None = None) -> Page:
    """Up to ``limit`` products in (price_cents, id) order, starting after the cursor.

    ``after=None`` is the first page. ``next_cursor`` names the last item of this page, or is
    None when there are no more rows (so a table of exactly 2 * limit rows gives two pages,
    not a third, empty one). ValueError (mentioning the limit) unless
    1 <= limit <= MAX_PAGE_SIZE; InvalidCursor for a bad cursor.
    """
    raise NotImplementedError("04.4: WHERE tuple_(price, id) > cursor, ORDER BY, LIMIT limit + 1")


def iter_products(conn: Connection, page_size: int = 50) -> Iterator[ProductRow]:
    """Every product in order, fetched one keyset page at a time."""
    raise NotImplementedError("04.4: call fetch_page until next_cursor is None")
