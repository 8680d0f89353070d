"""The cursor of a list in id order (products, notifications): the services turn a page's last
id into an opaque cursor and back, and refuse any cursor they did not make before database
work (``InvalidCursor``, a 422 at the route)."""

from __future__ import annotations

import pytest

from capstone.common.validation import MAX_ID
from capstone.contracts.paging import InvalidCursor, decode_id_cursor, encode_cursor


def test_no_cursor_is_the_first_page_and_a_cursor_names_the_last_id_seen():
    assert decode_id_cursor(None) == 0
    assert decode_id_cursor(encode_cursor(0)) == 0  # before the first id: the first page
    assert decode_id_cursor(encode_cursor(41)) == 41
    assert decode_id_cursor(encode_cursor(MAX_ID)) == MAX_ID


@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64-json",
        encode_cursor(),
        encode_cursor(1, 2),
        encode_cursor("7"),
        encode_cursor(True),
        encode_cursor(-1),
        encode_cursor(MAX_ID + 1),
        encode_cursor(1.5),
    ],
)
def test_a_cursor_not_made_here_is_refused(cursor):
    with pytest.raises(InvalidCursor):
        decode_id_cursor(cursor)
