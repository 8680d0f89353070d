"""Keeps `{include-group = ...}` tables as if they were dependency strings.

01.7 Reading a project's dependency declarations (core; the dependency audit, stage 1).

A pyproject.toml declares dependencies as strings in a small language (PEP 508):
``"httpx[http2]>=0.27,<1; python_version < '3.13'"`` is a name, extras, version clauses and an
environment marker. Before anything can be said about a project's dependencies, each string
must be read into data, and every string found: in [project], in its optional extras, and in
the dependency groups (PEP 735). Exercise 01.8 builds the audit on top of this.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Version = tuple[int, ...]

# name, optional [extras], then everything up to an optional "; marker".
REQUIREMENT_RE = re.compile(
    r"""
    \s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)
    \s*(?:\[(?P<extras>[^\]]*)\])?
    \s*(?P<rest>[^;]*?)
    \s*(?:;\s*(?P<marker>.*?))?\s*
    """,
    re.VERBOSE,
)
CLAUSE_RE = re.compile(r"(?P<op>===|~=|==|!=|<=|>=|<|>)\s*(?P<version>[A-Za-z0-9.*+!_-]+)")


@dataclass(frozen=True)
class Requirement:
    """One parsed dependency string.

    `name` is normalised (see normalize_name); `extras` are normalised and sorted;
    `specifier` holds the version clauses as written but without spaces, e.g. (">=1.0", "<2");
    `url` is set for a direct reference (`name @ https://...`); `marker` is the text after
    `;` ("" when there is none); `source` says where the string was declared.
    """

    name: str
    extras: tuple[str, ...]
    specifier: tuple[str, ...]
    url: str | None
    marker: str
    source: str

    @property
    def pinned(self) -> bool:
        """Constrained to some versions: a version specifier or a direct URL."""
        return bool(self.specifier) or self.url is not None


def normalize_name(name: str) -> str:
    """The canonical form of a package name (PEP 503): lowercase, runs of -_. become one "-".

    "Typing_Extensions" and "typing.extensions" -> "typing-extensions".
    """
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_version(text: str) -> Version:
    """A release version as a tuple of ints, trailing zeros dropped: "1.10.0" -> (1, 10).

    Dropping trailing zeros makes "1.0" and "1" equal, as they are for pip. Only digits
    separated by dots are accepted; anything else ("1.0rc1", "1.*", "") is a ValueError.
    """
    if not re.fullmatch(r"\d+(\.\d+)*", text):
        raise ValueError(f"{text!r} is not a plain release version such as 1.2.3")
    parts = [int(part) for part in text.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def parse_requirement(text: str, source: str = "project") -> Requirement:
    """Parses a PEP 508 dependency string such as "httpx[http2]>=0.27,<1; python_version<'3.13'".

    Accepted after the name and optional extras: nothing; comma-separated clauses, each an
    operator (===, ~=, ==, !=, <=, >=, <, >) and a version, optionally in parentheses; or
    "@ <url>". Anything else (an empty string, "requests>>2", "==1.0") is a ValueError whose
    message quotes the text.
    """
    match = REQUIREMENT_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a dependency specification")
    extras = tuple(
        sorted(normalize_name(e.strip()) for e in (match["extras"] or "").split(",") if e.strip())
    )
    rest = match["rest"].strip()
    url: str | None = None
    clauses: tuple[str, ...] = ()
    if rest.startswith("@"):
        url = rest[1:].strip()
        if not url:
            raise ValueError(f"{text!r}: '@' must be followed by a URL")
    elif rest:
        clauses = _parse_clauses(rest.removeprefix("(").removesuffix(")"), text)
    return Requirement(
        name=normalize_name(match["name"]),
        extras=extras,
        specifier=clauses,
        url=url,
        marker=(match["marker"] or "").strip(),
        source=source,
    )


def _parse_clauses(spec: str, text: str) -> tuple[str, ...]:
    clauses = []
    for clause in spec.split(","):
        found = CLAUSE_RE.fullmatch(clause.strip())
        if found is None:
            raise ValueError(f"{text!r}: {clause.strip()!r} is not a version clause like '>=1.0'")
        clauses.append(found["op"] + found["version"])
    return tuple(clauses)


def declared_dependencies(pyproject: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every dependency string of a parsed pyproject.toml as (source, text), in file order.

    Sources: "project" for [project].dependencies, "optional:<extra>" for each list in
    [project.optional-dependencies], "group:<name>" for each list in [dependency-groups]
    (PEP 735). Entries of a dependency group that are tables (`{include-group = "..."}`)
    are not dependency strings and are skipped. Missing tables mean no dependencies.
    """
    project = pyproject.get("project", {})
    found = [("project", text) for text in project.get("dependencies", [])]
    for extra, texts in project.get("optional-dependencies", {}).items():
        found += [(f"optional:{extra}", text) for text in texts]
    for group, entries in pyproject.get("dependency-groups", {}).items():
        found += [(f"group:{group}", text) for text in entries]
    return found
