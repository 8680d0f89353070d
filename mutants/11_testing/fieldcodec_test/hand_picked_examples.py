"""Tries a few hand-picked lists instead of properties, and misses the inputs no one thought of."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st

from journey.targets import load

fieldcodec = load(__file__, "fieldcodec")

# Every list of text: empty or not, empty strings, any character but lone surrogates.
_FIELDS = st.lists(st.text())
# derandomize: the same examples on every run (and no example database), as a CI needs.
_CHECKED = settings(max_examples=50, derandomize=True, deadline=None)


@pytest.mark.parametrize(
    "fields", [[], [""], ["a", "b"], ["hello world"], ["a,b", "100%"], ["line\nbreak"]]
)
def test_decode_gives_back_what_encode_wrote(fields: list[str]) -> None:
    assert fieldcodec.decode(fieldcodec.encode(fields)) == fields


@pytest.mark.parametrize("fields", [["a", "b"], ["tab\there"], ["x,y"]])
def test_the_line_is_printable_ascii(fields: list[str]) -> None:
    line = fieldcodec.encode(fields)
    assert all(" " <= char <= "~" for char in line), f"{line!r} has a character out of range"


@pytest.mark.parametrize(("first", "second"), [(["a"], ["b"]), ([], ["a"])])
def test_different_lists_make_different_lines(first: list[str], second: list[str]) -> None:
    if first != second:
        assert fieldcodec.encode(first) != fieldcodec.encode(second)
