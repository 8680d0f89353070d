"""01.6 Auditing a project's dependencies from pyproject.toml (core).

Reads the dependency lists of a pyproject.toml with `tomllib` and reports, as data, the
dependencies that have no version constraint, the ones whose constraints contradict each
other, and the ones that cannot be read at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Version = tuple[int, ...]
FindingKind = Literal["conflict", "invalid", "unpinned"]

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
        raise NotImplementedError("01.6: a version clause or a URL makes it pinned")


@dataclass(frozen=True)
class Finding:
    """One problem: what kind, which package, where it was declared, and a readable detail."""

    kind: FindingKind
    package: str
    sources: tuple[str, ...]
    detail: str


def normalize_name(name: str) -> str:
    """The canonical form of a package name (PEP 503): lowercase, runs of -_. become one "-".

    "Typing_Extensions" and "typing.extensions" -> "typing-extensions".
    """
    raise NotImplementedError("01.6: lowercase and collapse runs of -_. into '-'")


def parse_version(text: str) -> Version:
    """A release version as a tuple of ints, trailing zeros dropped: "1.10.0" -> (1, 10).

    Dropping trailing zeros makes "1.0" and "1" equal, as they are for pip. Only digits
    separated by dots are accepted; anything else ("1.0rc1", "1.*", "") is a ValueError whose
    message mentions "version" and quotes the text.
    """
    raise NotImplementedError("01.6: turn '1.10.0' into (1, 10)")


def parse_requirement(text: str, source: str = "project") -> Requirement:
    """Parses a PEP 508 dependency string such as "httpx[http2]>=0.27,<1; python_version<'3.13'".

    Accepted after the name and optional extras: nothing; comma-separated clauses, each an
    operator (===, ~=, ==, !=, <=, >=, <, >) and a version, optionally in parentheses; or
    "@ <url>". Anything else (an empty string, "requests>>2", "==1.0") is a ValueError whose
    message quotes the text.
    """
    raise NotImplementedError("01.6: parse name, extras, clauses or URL, and marker")


def declared_dependencies(pyproject: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every dependency string of a parsed pyproject.toml as (source, text), in file order.

    Sources: "project" for [project].dependencies, "optional:<extra>" for each list in
    [project.optional-dependencies], "group:<name>" for each list in [dependency-groups]
    (PEP 735). Entries of a dependency group that are tables (`{include-group = "..."}`)
    are not dependency strings and are skipped. Missing tables mean no dependencies.
    """
    raise NotImplementedError("01.6: list (source, text) for every dependency string")


def compatible(clauses: Iterable[str]) -> bool | None:
    """Whether at least one version satisfies every clause together.

    Clauses are normalised ones like ">=1.0" or "<2". True if some version fits, False if
    none can (">=2" with "<1.5"; "==1.0" with "==2.0"; ">1" with "<=1"), None if this cannot
    be decided simply: a clause with a version that parse_version rejects (wildcards,
    pre-releases) or an "===" clause. "!=" clauses are ignored. "~=X.Y" means ">=X.Y" and
    "<X+1"; "~=X.Y.Z" means ">=X.Y.Z" and "<X.Y+1".
    """
    raise NotImplementedError("01.6: does some version satisfy every clause?")


def audit(pyproject: Mapping[str, Any]) -> list[Finding]:
    """The problems in a parsed pyproject.toml, sorted by (package, kind).

    - "invalid": a string parse_requirement rejects; one finding per string, `package` is
      the string itself, `detail` is the error message.
    - "unpinned": a package declared with neither a version clause nor a URL; one finding
      per package, `sources` = every source where it is unpinned, in file order, without
      repeats.
    - "conflict": a package whose clauses, gathered from all its requirements without a
      marker, are not compatible (compatible(...) is False; None is not reported); `sources`
      = those requirements' sources in file order, without repeats; `detail` lists each
      source with its clauses, e.g. "project: >=2.0; group:dev: ==1.5".
    Names are compared normalised, so "Requests" and "requests" are one package.
    """
    raise NotImplementedError("01.6: report invalid, unpinned and conflicting dependencies")


def audit_file(path: str | Path) -> list[Finding]:
    """Reads the pyproject.toml at `path` and audits it.

    The file is opened in binary mode, as tomllib requires; invalid TOML raises
    tomllib.TOMLDecodeError (a ValueError) and a missing file FileNotFoundError.
    """
    raise NotImplementedError("01.6: load the file with tomllib and audit it")
