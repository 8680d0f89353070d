"""01.1 Text statistics with comprehensions."""

import pytest

from journey.targets import load

text_stats = load(__file__, "text_stats")

POEM = """The cat sat on the mat.
The mat was flat; the cat was fat!

Don't wake the cat."""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, world!", ["hello", "world"]),
        ("Don't STOP", ["don't", "stop"]),
        ("route 66 and 7-up", ["route", "66", "and", "7", "up"]),
        ("café naïve", ["café", "naïve"]),
        ("snake_case", ["snake", "case"]),
        ("", []),
        ("  ...  !!", []),
    ],
)
def test_words(text: str, expected: list[str]) -> None:
    got = text_stats.words(text)
    assert got == expected, f"words({text!r}) should be {expected}: lowercase, punctuation dropped"


def test_word_counts_counts_and_keeps_first_appearance_order() -> None:
    got = text_stats.word_counts("b a b c a b")
    assert got == {"b": 3, "a": 2, "c": 1}, "a word that appears three times counts 3"
    assert list(got) == ["b", "a", "c"], "keys come in the order the words first appear"


def test_word_counts_is_case_insensitive() -> None:
    assert text_stats.word_counts("The the THE") == {"the": 3}, "'The' and 'the' are one word"


def test_word_counts_of_empty_text() -> None:
    assert text_stats.word_counts("") == {}, "no words: an empty dict"


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, [("the", 5)]),
        (3, [("the", 5), ("cat", 3), ("mat", 2)]),
        (5, [("the", 5), ("cat", 3), ("mat", 2), ("was", 2), ("don't", 1)]),
        (0, []),
    ],
)
def test_top_words(n: int, expected: list[tuple[str, int]]) -> None:
    got = text_stats.top_words(POEM, n)
    assert got == expected, "most frequent first; equal counts in alphabetical order"


def test_top_words_default_is_three() -> None:
    assert text_stats.top_words(POEM) == [("the", 5), ("cat", 3), ("mat", 2)]


def test_top_words_with_n_larger_than_the_vocabulary() -> None:
    assert text_stats.top_words("b a b", 10) == [("b", 2), ("a", 1)], "all words, ranked"


def test_top_words_rejects_negative_n() -> None:
    with pytest.raises(ValueError, match="n"):
        text_stats.top_words(POEM, -1)


def test_words_by_length() -> None:
    got = text_stats.words_by_length("bb a ccc a dd bb")
    assert got == {1: ["a"], 2: ["bb", "dd"], 3: ["ccc"]}, "distinct words, sorted, per length"
    assert list(got) == [1, 2, 3], "lengths in ascending order"
    assert text_stats.words_by_length("zz yy xx") == {2: ["xx", "yy", "zz"]}, (
        "the words of one length are sorted alphabetically, not kept in text order"
    )
    assert text_stats.words_by_length("") == {}


def test_summarize() -> None:
    got = text_stats.summarize(POEM)
    assert got == {
        "lines": 3,
        "words": 18,
        "unique_words": 10,
        "longest_word": "don't",
        "average_word_length": 3.17,
    }, "blank lines do not count; the longest word is 'don't' (5 characters)"


def test_summarize_longest_word_tie_goes_to_the_first() -> None:
    assert text_stats.summarize("one two three seven")["longest_word"] == "three", (
        "'three' and 'seven' are equally long: the first one wins"
    )


def test_summarize_empty_text() -> None:
    got = text_stats.summarize("  \n\n ")
    assert got == {
        "lines": 0,
        "words": 0,
        "unique_words": 0,
        "longest_word": "",
        "average_word_length": 0.0,
    }, "no words: zeros, an empty longest word, and no ZeroDivisionError"
