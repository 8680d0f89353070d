"""``journey diff``: the learner's code beside the reference solution, without the noise.

A stub's docstrings state the task and a solution's explain it, so they always differ; the
learner wrote neither. The diff leaves docstrings out (of the module, classes and functions) and
ignores trailing whitespace, and its hunk headers keep the files' real line numbers, so
``@@ -12 +14 @@`` still points at line 12 of the learner's file.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterator

Numbered = list[tuple[int, str]]  # (line number from 1, the line without its line ending)


def docstring_lines(text: str) -> set[int]:
    """The line numbers of every docstring in ``text`` (none if it does not parse)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return set()
    lines: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        body = node.body
        if (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
            and body[0].end_lineno is not None
        ):
            lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def code_lines(text: str) -> Numbered:
    """The lines of ``text`` that are code or comments, numbered, trailing spaces dropped."""
    skipped = docstring_lines(text)
    numbered = [
        (number, line.rstrip())
        for number, line in enumerate(text.splitlines(), start=1)
        if number not in skipped
    ]
    # a docstring removed from between two blank lines would leave a double blank
    return [
        entry
        for index, entry in enumerate(numbered)
        if entry[1] or index == 0 or numbered[index - 1][1]
    ]


def _span(lines: Numbered, start: int, end: int) -> str:
    if start == end:  # nothing on this side: the hunk goes after the line before
        before = lines[start - 1][0] if start > 0 else 0
        return f"{before},0"
    first, count = lines[start][0], lines[end - 1][0] - lines[start][0] + 1
    return f"{first}" if count == 1 else f"{first},{count}"


def unified(mine: str, reference: str, mine_name: str, reference_name: str) -> Iterator[str]:
    """A unified diff of the code lines of two files (nothing when they match)."""
    left, right = code_lines(mine), code_lines(reference)
    matcher = difflib.SequenceMatcher(
        None, [line for _, line in left], [line for _, line in right], autojunk=False
    )
    groups = list(matcher.get_grouped_opcodes(3))
    if not groups:
        return
    yield f"--- {mine_name}"
    yield f"+++ {reference_name}"
    for group in groups:
        (_, i1, _, j1, _), (_, _, i2, _, j2) = group[0], group[-1]
        yield f"@@ -{_span(left, i1, i2)} +{_span(right, j1, j2)} @@"
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                yield from (f" {line}" for _, line in left[a1:a2])
                continue
            if tag in ("replace", "delete"):
                yield from (f"-{line}" for _, line in left[a1:a2])
            if tag in ("replace", "insert"):
                yield from (f"+{line}" for _, line in right[b1:b2])
