"""04.4 — keyset pagination with an opaque cursor."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest
from sqlalchemy import Connection, Engine, event, insert, select

from journey.targets import load

keyset = load(__file__, "keyset")

SECRET = b"the server's own key, from its settings"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def signed(payload: bytes, secret: bytes = SECRET) -> str:
    """A cursor in the documented format, for any payload: what only the server can make."""
    return f"{b64(payload)}.{b64(hmac.new(secret, payload, hashlib.sha256).digest())}"


def fill(conn: Connection, count: int, prices: tuple[int, ...] = (500, 100, 300)) -> None:
    """Many products share a price, so only the id can break the ties."""
    keyset.metadata.create_all(conn)
    rows = [{"name": f"p{n}", "price_cents": prices[n % len(prices)]} for n in range(count)]
    if rows:
        conn.execute(insert(keyset.products), rows)


def expected_order(conn: Connection) -> list[int]:
    t = keyset.products
    return list(conn.scalars(select(t.c.id).order_by(t.c.price_cents, t.c.id)))


def walk(conn: Connection, limit: int) -> list[list[int]]:
    pages: list[list[int]] = []
    cursor = None
    while True:
        page = keyset.fetch_page(conn, limit, cursor, secret=SECRET)
        pages.append([item.id for item in page.items])
        if page.next_cursor is None:
            return pages
        assert len(pages) < 100, "next_cursor never became None: the walk does not end"
        cursor = page.next_cursor


def test_walking_all_pages_returns_every_row_once_in_order(engine: Engine) -> None:
    with engine.begin() as conn:
        fill(conn, 57)
        pages = walk(conn, 10)
        assert [len(p) for p in pages] == [10, 10, 10, 10, 10, 7], "pages of 10, then the rest"
        seen = [i for page in pages for i in page]
        assert seen == expected_order(conn), (
            "every product appears exactly once, ordered by price then id (ties broken by id)"
        )


def test_page_items_carry_the_row(engine: Engine) -> None:
    with engine.begin() as conn:
        fill(conn, 3)
        page = keyset.fetch_page(conn, 10, secret=SECRET)
        assert [(p.name, p.price_cents) for p in page.items] == [
            ("p1", 100),
            ("p2", 300),
            ("p0", 500),
        ], "items are ProductRow(id, name, price_cents), cheapest first"


def test_an_exact_multiple_has_no_empty_last_page(engine: Engine) -> None:
    with engine.begin() as conn:
        fill(conn, 20)
        assert [len(p) for p in walk(conn, 10)] == [10, 10], (
            "the second page is the last: its next_cursor is None (look one row ahead)"
        )


def test_an_empty_table_is_one_empty_page(engine: Engine) -> None:
    with engine.begin() as conn:
        fill(conn, 0)
        page = keyset.fetch_page(conn, 10, secret=SECRET)
        assert page.items == []
        assert page.next_cursor is None


def test_pages_are_stable_when_rows_are_inserted_in_front(engine: Engine) -> None:
    with engine.begin() as conn:
        fill(conn, 30)
        first = keyset.fetch_page(conn, 10, secret=SECRET)
        # new, cheaper products land before the cursor: OFFSET 10 would now repeat rows
        conn.execute(
            insert(keyset.products), [{"name": f"cheap{n}", "price_cents": 1} for n in range(5)]
        )
        second = keyset.fetch_page(conn, 10, first.next_cursor, secret=SECRET)
        first_ids = {p.id for p in first.items}
        assert not first_ids & {p.id for p in second.items}, (
            "a row inserted before the cursor must not push old rows onto the next page"
        )
        order = expected_order(conn)
        start = order.index(first.items[-1].id) + 1
        assert [p.id for p in second.items] == order[start : start + 10], (
            "the next page continues right after the last row of the previous one"
        )


def test_no_offset_is_used(engine: Engine) -> None:
    with engine.begin() as conn:
        fill(conn, 25)
    statements: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement.upper())

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with engine.connect() as conn:
            walk(conn, 10)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert statements, "fetch_page must query the database"
    assert not any("OFFSET" in s for s in statements), (
        "keyset pagination seeks past the last row (WHERE (price, id) > ...), it never uses OFFSET"
    )


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "",
        "bm90IGpzb24=",  # base64 of "not json", no signature
        "WzEsMl0=",  # base64 of [1,2]: well formed, but unsigned
        "WzEsMl0=.",  # ... with an empty signature
        "WzEsMl0=.bm90IGEgc2lnbmF0dXJl",  # ... with a signature that is not one
    ],
)
def test_a_bad_or_unsigned_cursor_is_an_invalid_cursor(engine: Engine, cursor: str) -> None:
    with engine.begin() as conn:
        fill(conn, 5)
        with pytest.raises(keyset.InvalidCursor):
            keyset.fetch_page(conn, 10, cursor, secret=SECRET)


def test_a_forged_or_edited_cursor_is_refused() -> None:
    genuine = keyset.encode_cursor(500, 7, SECRET)
    assert keyset.decode_cursor(genuine, SECRET) == (500, 7)
    _, _, signature = genuine.partition(".")
    edited = f"{b64(b'[1,7]')}.{signature}"  # a cheaper position under the genuine signature
    with pytest.raises(keyset.InvalidCursor):
        keyset.decode_cursor(edited, SECRET)
    forged = signed(b"[1,7]", secret=b"a key the attacker guessed")
    with pytest.raises(keyset.InvalidCursor):
        keyset.decode_cursor(forged, SECRET)
    with pytest.raises(keyset.InvalidCursor):
        keyset.decode_cursor(genuine, b"another server's key")


@pytest.mark.parametrize(
    "payload",
    [b"[1]", b'["a","b"]', b'{"a":1}', b"[true,1]", b"[1,2,3]", b"[1.5,2]", b"not json"],
)
def test_a_signed_payload_of_the_wrong_shape_is_an_invalid_cursor(payload: bytes) -> None:
    with pytest.raises(keyset.InvalidCursor):
        keyset.decode_cursor(signed(payload), SECRET)


def test_cursors_are_url_safe_and_follow_the_format() -> None:
    token = keyset.encode_cursor(1999, 42, SECRET)
    assert isinstance(token, str)
    assert re.fullmatch(r"[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+", token), (
        f"a cursor is '<base64 payload>.<base64 signature>', URL-safe: {token!r}"
    )
    assert token == signed(b"[1999,42]"), "the payload is json.dumps([price, id]) without spaces"
    assert keyset.decode_cursor(token, SECRET) == (1999, 42), "decode_cursor undoes encode_cursor"


@pytest.mark.parametrize("limit", [0, -5, 101])
def test_limit_must_be_between_1_and_the_maximum(engine: Engine, limit: int) -> None:
    with engine.begin() as conn:
        fill(conn, 5)
        with pytest.raises(ValueError, match="limit"):
            keyset.fetch_page(conn, limit, secret=SECRET)


@pytest.mark.parametrize(("limit", "rows"), [(1, 7), (keyset.MAX_PAGE_SIZE, 150)])
def test_the_smallest_and_largest_limits_are_allowed(engine: Engine, limit: int, rows: int) -> None:
    with engine.begin() as conn:
        fill(conn, rows)
        pages = walk(conn, limit)
        assert [i for page in pages for i in page] == expected_order(conn), (
            f"limit={limit} is allowed (1 <= limit <= MAX_PAGE_SIZE) and pages through every row"
        )


def test_iter_products_walks_everything(engine: Engine) -> None:
    with engine.begin() as conn:
        fill(conn, 23)
        ids = [p.id for p in keyset.iter_products(conn, page_size=5, secret=SECRET)]
        assert ids == expected_order(conn), "iter_products yields every product in order"
