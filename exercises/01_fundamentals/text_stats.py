"""01.1 Text statistics with comprehensions (warm-up).

Small functions over a piece of text, each one a comprehension or two: split into words,
count them, rank them, group them, and summarise the whole text.
"""

from __future__ import annotations

import re
from typing import TypedDict

# A word is a run of letters or digits, optionally joined by apostrophes: "don't", "o'clock".
# `[^\W_]` means "a word character that is not an underscore": letters (any script) and digits.
WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


class TextSummary(TypedDict):
    """What `summarize` returns: a plain dict whose keys and value types are fixed."""

    lines: int
    words: int
    unique_words: int
    longest_word: str
    average_word_length: float


def words(text: str) -> list[str]:
    """The words of `text`, lowercased, in the order they appear.

    Punctuation and whitespace separate words and are dropped; digits count as words;
    an apostrophe inside a word keeps it whole ("Don't" -> "don't"); an underscore separates
    words ("snake_case" -> "snake", "case"). Use WORD_RE.
    """
    raise NotImplementedError("01.1: find the lowercased words of text with WORD_RE")


def word_counts(text: str) -> dict[str, int]:
    """How often each word appears; keys in order of first appearance.

    "b a b" -> {"b": 2, "a": 1}; an empty text -> {}.
    """
    raise NotImplementedError("01.1: count each word of text")


def top_words(text: str, n: int = 3) -> list[tuple[str, int]]:
    """The `n` most frequent words as (word, count) pairs.

    Most frequent first; words with the same count in alphabetical order. Fewer than `n`
    distinct words: all of them. `n == 0`: an empty list. Negative `n`: ValueError that
    mentions n.
    """
    raise NotImplementedError("01.1: rank the words by count, then alphabetically")


def words_by_length(text: str) -> dict[int, list[str]]:
    """Distinct words grouped by length: {length: sorted words}, keys in ascending order.

    "bb a ccc a dd" -> {1: ["a"], 2: ["bb", "dd"], 3: ["ccc"]}.
    """
    raise NotImplementedError("01.1: group the distinct words by their length")


def summarize(text: str) -> TextSummary:
    """A summary of `text`.

    - lines: lines that hold something other than whitespace
    - words / unique_words: all words, distinct words
    - longest_word: the longest word; among equally long ones, the first to appear; "" if none
    - average_word_length: mean word length rounded to 2 decimals; 0.0 if there are no words
    """
    raise NotImplementedError("01.1: build the TextSummary of text")
