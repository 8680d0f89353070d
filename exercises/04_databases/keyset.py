"""04.4 — Keyset (cursor) pagination with SQLAlchemy Core.

``products`` are listed cheapest first; products with the same price are ordered by id, so
the order is total and every row has one well-defined position: ``(price_cents, id)``.

A page never uses OFFSET. It asks for the rows *after* the last row of the previous page,
``WHERE (price_cents, id) > (last_price, last_id)``: one index seek, however deep the page,
and rows inserted in front of the cursor cannot push old rows onto the next page.

The cursor handed to clients is opaque, and signed so that a client can only hand back a
cursor this server made (a forged or edited one would let it probe positions, or feed values
the query was never meant to see)::

    payload   = json.dumps([price_cents, id], separators=(",", ":")).encode()
    signature = hmac.new(secret, payload, hashlib.sha256).digest()
    cursor    = urlsafe_b64(payload) + "." + urlsafe_b64(signature)

where ``urlsafe_b64(data)`` is ``base64.urlsafe_b64encode(data).decode("ascii")``. ``secret``
is the server's private key (from its settings, never from the client).
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
    """The cursor was not made by encode_cursor with our secret (forged, edited, truncated...)."""


@dataclass(frozen=True)
class ProductRow:
    id: int
    name: str
    price_cents: int


@dataclass(frozen=True)
class Page:
    items: list[ProductRow]
    next_cursor: str | None  # None on the last page


def encode_cursor(price_cents: int, product_id: int, secret: bytes) -> str:
    """An opaque, URL-safe token naming the position right after this row, signed with
    ``secret`` as the module docstring shows."""
    raise NotImplementedError("04.4: base64 of the JSON payload, a dot, base64 of its HMAC")


def decode_cursor(cursor: str, secret: bytes) -> tuple[int, int]:
    """The ``(price_cents, id)`` inside a cursor that encode_cursor made with this ``secret``.

    Anything else raises InvalidCursor: not base64, no dot, a signature that does not match
    the payload (a forged or edited cursor, or one signed with another secret: compare with
    ``hmac.compare_digest``), or a signed payload that is not a list of exactly two ints
    (``true`` is not an int here).
    """
    raise NotImplementedError("04.4: split, decode, check the HMAC, then the shape")


def fetch_page(conn: Connection, limit: int, after: str | None = None, *, secret: bytes) -> Page:
    """Up to ``limit`` products in (price_cents, id) order, starting after the cursor.

    ``after=None`` is the first page. ``next_cursor`` names the last item of this page, or is
    None when there are no more rows (so a table of exactly 2 * limit rows gives two pages,
    not a third, empty one). ValueError (mentioning the limit) unless
    1 <= limit <= MAX_PAGE_SIZE; InvalidCursor for a bad cursor.
    """
    raise NotImplementedError("04.4: WHERE tuple_(price, id) > cursor, ORDER BY, LIMIT limit + 1")


def iter_products(conn: Connection, page_size: int = 50, *, secret: bytes) -> Iterator[ProductRow]:
    """Every product in order, fetched one keyset page at a time."""
    raise NotImplementedError("04.4: call fetch_page until next_cursor is None")
