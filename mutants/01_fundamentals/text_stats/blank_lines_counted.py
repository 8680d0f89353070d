"""Counts every line, blank ones too.

01.1 Text statistics with comprehensions (warm-up).

Small functions over a piece of text, each one a comprehension or two: split into words,
count them, rank them, group them, and summarise the whole text.
"""

from __future__ import annotations

import re
from collections import Counter
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
    an apostrophe inside a word keeps it whole ("Don't" -> "don't").
    """
    return WORD_RE.findall(text.lower())


def word_counts(text: str) -> dict[str, int]:
    """How often each word appears; keys in order of first appearance."""
    # Counter keeps insertion order (it is a dict), so first appearance decides the key order.
    return dict(Counter(words(text)))


def top_words(text: str, n: int = 3) -> list[tuple[str, int]]:
    """The `n` most frequent words as (word, count) pairs.

    Most frequent first; words with the same count in alphabetical order. Fewer than `n`
    distinct words: all of them. `n == 0`: an empty list. Negative `n`: ValueError.
    """
    if n < 0:
        raise ValueError(f"n must be zero or more, got {n}")
    # Sort on (-count, word): higher counts first, ties broken alphabetically.
    ranked = sorted(word_counts(text).items(), key=lambda pair: (-pair[1], pair[0]))
    return ranked[:n]


def words_by_length(text: str) -> dict[int, list[str]]:
    """Distinct words grouped by length: {length: sorted words}, keys in ascending order."""
    distinct = set(words(text))
    lengths = sorted({len(word) for word in distinct})
    return {length: sorted(w for w in distinct if len(w) == length) for length in lengths}


def summarize(text: str) -> TextSummary:
    """A summary of `text`.

    - lines: lines that hold something other than whitespace
    - words / unique_words: all words, distinct words
    - longest_word: the longest word; among equally long ones, the first to appear; "" if none
    - average_word_length: mean word length rounded to 2 decimals; 0.0 if there are no words
    """
    all_words = words(text)
    # max() returns the first maximal element, which is the tie rule we want.
    longest = max(all_words, key=len, default="")
    average = round(sum(len(w) for w in all_words) / len(all_words), 2) if all_words else 0.0
    return TextSummary(
        lines=len(text.splitlines()),
        words=len(all_words),
        unique_words=len(set(all_words)),
        longest_word=longest,
        average_word_length=average,
    )
