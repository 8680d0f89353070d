"""The catalog's cursor: the glue around lesson 04's store turns a page's ``next_after`` into an
opaque cursor and back, and refuses (422) any cursor it did not make, before database work."""

from __future__ import annotations

import pytest

from capstone.catalog.repository import after_id_of
from capstone.common.problems import Problem
from capstone.common.validation import MAX_ID
from capstone.contracts.paging import encode_cursor


def test_no_cursor_is_the_first_page_and_a_cursor_names_the_last_id_seen():
    assert after_id_of(None) == 0
    assert after_id_of(encode_cursor(41)) == 41
    assert after_id_of(encode_cursor(MAX_ID)) == MAX_ID


@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64-json",
        encode_cursor(),
        encode_cursor(1, 2),
        encode_cursor("7"),
        encode_cursor(True),
        encode_cursor(0),
        encode_cursor(-1),
        encode_cursor(MAX_ID + 1),
        encode_cursor(1.5),
    ],
)
def test_a_cursor_not_made_here_is_a_422(cursor):
    with pytest.raises(Problem) as refused:
        after_id_of(cursor)
    assert refused.value.status == 422
