"""Takes true for an int in a signed cursor (bool is a subclass of int).

04.4 — Keyset (cursor) pagination with SQLAlchemy Core.

OFFSET pages make the database walk and throw away every row before the page, and they shift
when rows are inserted in front. A keyset page asks instead for the rows *after the last one
seen* in a total order, here (price_cents, id): an index seek, stable under inserts.

The cursor is signed with an HMAC, so a client can hand back only the cursors it was given.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Connection,
    Identity,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    select,
    tuple_,
)

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
    ``secret``: ``<payload>.<signature>``, both URL-safe base64."""
    payload = json.dumps([price_cents, product_id], separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_sign(payload, secret))}"


def decode_cursor(cursor: str, secret: bytes) -> tuple[int, int]:
    """The (price_cents, id) inside a cursor this server signed; InvalidCursor otherwise."""
    payload_part, dot, signature_part = cursor.partition(".")
    try:
        payload = base64.urlsafe_b64decode(payload_part.encode("ascii"))
        signature = base64.urlsafe_b64decode(signature_part.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeError) as error:
        raise InvalidCursor(f"not a valid page cursor: {cursor!r}") from error
    # compare_digest takes as long for a near miss as for a far one: no timing hints
    if not dot or not hmac.compare_digest(signature, _sign(payload, secret)):
        raise InvalidCursor(f"not a page cursor this server made: {cursor!r}")
    try:
        value = json.loads(payload)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InvalidCursor(f"not a valid page cursor: {cursor!r}") from error
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(part, int) for part in value)
    ):
        raise InvalidCursor(f"not a valid page cursor: {cursor!r}")
    return value[0], value[1]


def _sign(payload: bytes, secret: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def fetch_page(conn: Connection, limit: int, after: str | None = None, *, secret: bytes) -> Page:
    """Up to ``limit`` products in (price_cents, id) order, starting after the cursor."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}, not {limit}")
    query = select(products.c.id, products.c.name, products.c.price_cents).order_by(
        products.c.price_cents, products.c.id
    )
    if after is not None:
        price, product_id = decode_cursor(after, secret)
        query = query.where(
            tuple_(products.c.price_cents, products.c.id) > tuple_(price, product_id)
        )
    # one row more than asked: its presence is how we know there is a next page
    rows = conn.execute(query.limit(limit + 1)).all()
    items = [ProductRow(id=r.id, name=r.name, price_cents=r.price_cents) for r in rows[:limit]]
    if len(rows) <= limit:
        return Page(items=items, next_cursor=None)
    last = items[-1]
    return Page(items=items, next_cursor=encode_cursor(last.price_cents, last.id, secret))


def iter_products(conn: Connection, page_size: int = 50, *, secret: bytes) -> Iterator[ProductRow]:
    """Every product in order, fetched one keyset page at a time."""
    cursor: str | None = None
    while True:
        page = fetch_page(conn, page_size, cursor, secret=secret)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
