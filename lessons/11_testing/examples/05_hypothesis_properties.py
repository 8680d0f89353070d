"""05 · Property-based testing with Hypothesis: state what holds for every input, and let it
search for a counterexample.

    uv run python lessons/11_testing/examples/05_hypothesis_properties.py

A run-length encoder passes the examples its author thought of, then fails the round-trip
property: Hypothesis finds an input that breaks it and shrinks it to the smallest one. A fixed
encoder passes the same property.
"""

from __future__ import annotations

import itertools
import os
import re
import tempfile

from hypothesis import example, given, settings
from hypothesis import strategies as st

# Hypothesis keeps caches (and, for tests that are not derandomized, the failing examples it
# found) in .hypothesis/ of the current folder; this example keeps them in a temporary one.
# (It reads the variable when it first needs the folder, so setting it here is soon enough.)
_storage = tempfile.TemporaryDirectory(prefix="hypothesis-")
os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = _storage.name

# derandomize: the same inputs on every run, as a CI needs (and no example database)
CHECKED = settings(max_examples=200, derandomize=True, deadline=None)


def naive_encode(text: str) -> str:
    """'aaab' -> '3a1b': count, then character."""
    return "".join(f"{len(list(run))}{char}" for char, run in itertools.groupby(text))


def naive_decode(encoded: str) -> str:
    return "".join(char * int(count) for count, char in re.findall(r"(\d+)(\D)", encoded))


def encode(text: str) -> list[tuple[str, int]]:
    """The fix: keep runs as (character, count) pairs; no text format to confuse."""
    return [(char, len(list(run))) for char, run in itertools.groupby(text)]


def decode(runs: list[tuple[str, int]]) -> str:
    return "".join(char * count for char, count in runs)


def examples_pass() -> None:
    for text in ["", "a", "aaab", "hello world", "abcabc"]:
        assert naive_decode(naive_encode(text)) == text
    print("the naive encoder passes the five examples its author wrote")


@CHECKED
@given(st.text())
def naive_round_trip(text: str) -> None:
    assert naive_decode(naive_encode(text)) == text


@CHECKED
@given(st.text())
@example("")  # an edge case you know of: tried first, on every run
def round_trip(text: str) -> None:
    assert decode(encode(text)) == text


@CHECKED
@given(st.text(min_size=1))
def runs_are_maximal(text: str) -> None:
    runs = encode(text)
    assert all(count >= 1 for _, count in runs)
    assert all(a != b for (a, _), (b, _) in itertools.pairwise(runs)), "neighbours differ"


if __name__ == "__main__":
    examples_pass()
    try:
        naive_round_trip()
    except AssertionError as failure:
        # Hypothesis adds the shrunk input to the error as a note
        print("the round-trip property breaks the naive encoder, shrunk to the smallest input:")
        for note in getattr(failure, "__notes__", []):
            print("  ", " ".join(note.split()))
        print("   a digit in the text: the count and the character can no longer be told apart")
    round_trip()
    runs_are_maximal()
    print("the pair encoder passes the round trip and the maximal-runs property")
    _storage.cleanup()
