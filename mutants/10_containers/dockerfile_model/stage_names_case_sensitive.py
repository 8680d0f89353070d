"""Misses a stage named in another case (FROM BASE after AS base).

10.3 Read a Dockerfile into its build stages with dockerfile-parse (core).

A Dockerfile is a list of instructions; each ``FROM`` starts a new *stage*, and only the last
stage becomes the image. dockerfile-parse (the parser behind several build tools) does the
fiddly part - continuation lines, comments inside them, ``ARG`` values in ``FROM`` lines -
and this module turns its flat list into stages that a checker can ask questions of: what is
the final stage, what is it built on, what does it copy and from where.
"""

from __future__ import annotations

import io
import json
import shlex
from dataclasses import dataclass

from dockerfile_parse import DockerfileParser


class DockerfileError(ValueError):
    """The text is not a Dockerfile a build could start from; the message says why."""


@dataclass(frozen=True)
class Instruction:
    """One instruction: ``keyword`` upper-case (``RUN``), ``value`` its arguments as
    dockerfile-parse gives them (continuation lines joined), ``line`` where it starts
    (1-based, as an editor counts)."""

    keyword: str
    value: str
    line: int


@dataclass(frozen=True)
class Stage:
    """One build stage: from its ``FROM`` line to the next one.

    ``base`` is the image it starts from with the ARG values declared before the first FROM
    substituted (``python:3.11.9-slim``), or the name of an earlier stage; ``base_is_stage``
    says which. ``name`` is the ``AS`` name, lower-cased, or None. ``instructions`` are the
    stage's instructions after its FROM, in order, without comments.
    """

    index: int
    name: str | None
    base: str
    base_is_stage: bool
    line: int
    instructions: tuple[Instruction, ...]

    def find(self, keyword: str) -> list[Instruction]:
        """This stage's instructions with that keyword (any case), in order."""
        wanted = keyword.upper()
        return [i for i in self.instructions if i.keyword == wanted]


@dataclass(frozen=True)
class CopySpec:
    """What a COPY or ADD instruction copies: its sources, where to, and from which stage or
    image (``--from``), None when it copies from the build context."""

    sources: tuple[str, ...]
    destination: str
    from_: str | None


def _from_name(value: str) -> str | None:
    """The ``AS name`` of a FROM line's value, lower-cased."""
    words = [w for w in value.split() if not w.startswith("--")]
    if len(words) >= 3 and words[-2].upper() == "AS":
        return words[-1].lower()
    return None


def parse_dockerfile(text: str) -> list[Stage]:
    """The stages of a Dockerfile, in order.

    Use ``DockerfileParser(fileobj=io.BytesIO(text.encode()))``: its ``structure`` is the list
    of instructions (``startline`` is 0-based), and ``parent_images`` the base of each FROM
    with ARG values substituted. Never give it a path: setting ``content`` writes a file.

    - Stage names are case-insensitive (``FROM builder`` after ``AS Builder`` is that stage).
    - A base that names an earlier stage has ``base_is_stage`` True (an image that happens to
      share a later stage's name does not).
    - Raises DockerfileError with "no FROM" when there is no FROM, and with "before the first
      FROM" when an instruction other than ARG comes before it.
    """
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")))
    instructions = [
        Instruction(item["instruction"].upper(), item["value"], item["startline"] + 1)
        for item in parser.structure
        if item["instruction"].upper() != "COMMENT"
    ]
    instructions.sort(key=lambda i: i.line)
    froms = [n for n, i in enumerate(instructions) if i.keyword == "FROM"]
    if not froms:
        raise DockerfileError("the Dockerfile has no FROM: every build starts from a base")
    for early in instructions[: froms[0]]:
        if early.keyword != "ARG":
            raise DockerfileError(
                f"line {early.line}: {early.keyword} before the first FROM (only ARG may be)"
            )

    bases = parser.parent_images
    stages: list[Stage] = []
    seen_names: set[str] = set()
    for index, start in enumerate(froms):
        end = froms[index + 1] if index + 1 < len(froms) else len(instructions)
        from_line = instructions[start]
        base = bases[index]
        name = _from_name(from_line.value)
        stages.append(
            Stage(
                index=index,
                name=name,
                base=base,
                base_is_stage=base in seen_names,
                line=from_line.line,
                instructions=tuple(instructions[start + 1 : end]),
            )
        )
        if name:
            seen_names.add(name)
    return stages


def final_stage(stages: list[Stage]) -> Stage:
    """The stage that becomes the image: the last one."""
    return stages[-1]


def split_flags(value: str) -> tuple[list[tuple[str, str]], str]:
    """The leading ``--name=value`` (or bare ``--name``) flags of an instruction's value, in
    order, and the rest: ``"--from=builder --link /a /b"`` ->
    ([("from", "builder"), ("link", "")], "/a /b"). A flag may repeat (``RUN --mount=...
    --mount=...``), so they come as a list of pairs.
    """
    flags: list[tuple[str, str]] = []
    rest = value.strip()
    while rest.startswith("--"):
        word, *after = rest.split(None, 1)
        rest = after[0] if after else ""
        name, _, flag_value = word[2:].partition("=")
        flags.append((name, flag_value))
    return flags, rest


def parse_copy(instruction: Instruction) -> CopySpec:
    """The sources, destination and ``--from`` of a COPY or ADD.

    Both forms: shell form ``COPY --chown=app:app a b ./dest/`` and JSON form
    ``COPY ["a b", "dest"]``. Flags (``--from=``, ``--chown=``, ``--chmod=``, ``--link``)
    come first and are not sources; only ``--from`` is kept. Raises DockerfileError for
    another instruction, or when there is not at least one source and a destination; the
    message starts with the instruction's line: "line 7: ...".
    """
    if instruction.keyword not in {"COPY", "ADD"}:
        raise DockerfileError(f"line {instruction.line}: {instruction.keyword} is not COPY/ADD")
    flags, value = split_flags(instruction.value)
    from_ = dict(flags).get("from")
    if value.startswith("["):
        try:
            words = [str(word) for word in json.loads(value)]
        except json.JSONDecodeError as error:
            raise DockerfileError(f"line {instruction.line}: bad JSON form: {error}") from error
    else:
        words = shlex.split(value)
    if len(words) < 2:
        raise DockerfileError(
            f"line {instruction.line}: {instruction.keyword} needs a source and a destination"
        )
    return CopySpec(tuple(words[:-1]), words[-1], from_)


def env_pairs(instruction: Instruction) -> list[tuple[str, str | None]]:
    """The (name, value) pairs that an ENV or ARG instruction declares.

    ``ENV A=1 B="two words"`` -> [("A", "1"), ("B", "two words")]; the legacy form
    ``ENV NAME some value`` -> [("NAME", "some value")]; ``ARG VERSION`` (no default) ->
    [("VERSION", None)]; ``ARG A=1 B`` -> [("A", "1"), ("B", None)]. Quotes are removed as a
    shell would. Raises DockerfileError for another instruction.
    """
    if instruction.keyword not in {"ENV", "ARG"}:
        raise DockerfileError(f"line {instruction.line}: {instruction.keyword} is not ENV/ARG")
    words = shlex.split(instruction.value)
    if instruction.keyword == "ENV" and words and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]
    pairs: list[tuple[str, str | None]] = []
    for word in words:
        name, equals, value = word.partition("=")
        pairs.append((name, value if equals else None))
    return pairs
