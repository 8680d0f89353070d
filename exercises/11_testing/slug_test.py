"""11.1 Test slugify (warm-up): plain asserts, ``pytest.mark.parametrize`` and
``pytest.raises``.

The code under test is ``slug.py`` beside this file: read its docstring, which is the whole
contract. Write the tests below; run them with ``uv run pytest exercises/11_testing/slug_test.py``
(they must pass on ``slug.py``), then ``uv run journey check 11``, which runs them against other
correct slugify functions (they must pass there too) and against slugify functions with a
planted bug (each one must make a test fail).

Test only what the docstring promises: an error's exact message, for instance, is not part of
it, and a correct slugify may word it differently.
"""

from __future__ import annotations

import pytest  # noqa: F401 - the tests you write will use it

from journey.targets import load

slug = load(__file__, "slug")


def test_examples() -> None:
    """Parametrize over (title, expected slug) pairs: letters lowercased, accents folded
    (``"Café"`` -> ``"cafe"``), one hyphen for each run of separators (``"a, b"`` ->
    ``"a-b"``), no hyphen at either end."""
    raise NotImplementedError("11.1: parametrize over (title, expected) pairs and assert")


def test_title_without_letters_or_digits() -> None:
    """A title with nothing to keep (``""``, ``"!!!"``) gives ``""``, not an error."""
    raise NotImplementedError("11.1: assert that such titles give an empty slug")


def test_cut_to_max_length() -> None:
    """At most ``max_length`` characters, and a cut never leaves a hyphen at the end: try
    lengths on both sides of a hyphen."""
    raise NotImplementedError("11.1: cut 'Hello World' at several lengths and assert")


def test_smallest_max_length() -> None:
    """``max_length=1`` is valid: the slug is one character."""
    raise NotImplementedError("11.1: assert what max_length=1 gives")


def test_max_length_below_one_is_rejected() -> None:
    """``max_length`` of 0 or less raises ``ValueError`` (use ``pytest.raises``; any message
    is correct)."""
    raise NotImplementedError("11.1: assert that max_length=0 raises ValueError")
