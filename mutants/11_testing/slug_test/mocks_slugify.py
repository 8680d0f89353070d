"""Replaces slugify with a mock and tests the mock, never the code."""

from __future__ import annotations

from unittest import mock

import pytest

from journey.targets import load

slug = load(__file__, "slug")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Hello World", "hello-world"),
        ("Café au lait", "cafe-au-lait"),
        ("Crème Brûlée", "creme-brulee"),
        ("a, b", "a-b"),
        ("Python 3.12 -- what's new?", "python-3-12-what-s-new"),
        ("  --Spaced out--  ", "spaced-out"),
        ("already-a-slug", "already-a-slug"),
    ],
    ids=["words", "accent", "accents", "run", "digits-and-punctuation", "edges", "slug"],
)
def test_examples(title: str, expected: str) -> None:
    """Lowercase, accents folded, one hyphen per run of separators, none at the ends."""
    with mock.patch.object(slug, "slugify", return_value=expected):
        assert slug.slugify(title) == expected


@pytest.mark.parametrize("title", ["", "!!!", "  ", "-"])
def test_title_without_letters_or_digits(title: str) -> None:
    """Nothing to keep gives an empty slug, not an error."""
    with mock.patch.object(slug, "slugify", return_value=""):
        assert slug.slugify(title) == ""


@pytest.mark.parametrize(
    ("max_length", "expected"),
    [(5, "hello"), (6, "hello"), (7, "hello-w"), (11, "hello-world"), (50, "hello-world")],
)
def test_cut_to_max_length(max_length: int, expected: str) -> None:
    """At most max_length characters, and a cut that lands on a hyphen drops it."""
    with mock.patch.object(slug, "slugify", return_value=expected):
        assert slug.slugify("Hello World", max_length) == expected


def test_smallest_max_length() -> None:
    """max_length=1 is the smallest valid length: one character."""
    with mock.patch.object(slug, "slugify", return_value="h"):
        assert slug.slugify("Hello", 1) == "h"


@pytest.mark.parametrize("max_length", [0, -1])
def test_max_length_below_one_is_rejected(max_length: int) -> None:
    """A ValueError; its message is not part of the contract, so it is not matched."""
    with (
        mock.patch.object(slug, "slugify", side_effect=ValueError("too short")),
        pytest.raises(ValueError),  # noqa: PT011
    ):
        slug.slugify("Hello", max_length)
