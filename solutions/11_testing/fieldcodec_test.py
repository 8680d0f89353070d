"""11.6 Test a codec with properties (core): Hypothesis generates the inputs, your test states
what must hold for every one of them.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from journey.targets import load

fieldcodec = load(__file__, "fieldcodec")

# Every list of text: empty or not, empty strings, any character but lone surrogates.
_FIELDS = st.lists(st.text())
# derandomize: the same examples on every run (and no example database), as a CI needs.
_CHECKED = settings(max_examples=50, derandomize=True, deadline=None)


@_CHECKED
@given(_FIELDS)
@example([])  # the edge cases you know of: Hypothesis tries them first, every time
@example([""])
def test_decode_gives_back_what_encode_wrote(fields: list[str]) -> None:
    assert fieldcodec.decode(fieldcodec.encode(fields)) == fields


@_CHECKED
@given(_FIELDS)
def test_the_line_is_printable_ascii(fields: list[str]) -> None:
    line = fieldcodec.encode(fields)
    assert all(" " <= char <= "~" for char in line), f"{line!r} has a character out of range"


@_CHECKED
@given(_FIELDS, _FIELDS)
def test_different_lists_make_different_lines(first: list[str], second: list[str]) -> None:
    if first != second:
        assert fieldcodec.encode(first) != fieldcodec.encode(second)
