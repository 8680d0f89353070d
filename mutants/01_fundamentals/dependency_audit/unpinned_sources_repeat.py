"""Lists a source once per unpinned requirement, so rich and rich[jupyter] give project twice.

01.6 Auditing a project's dependencies from pyproject.toml (core).

Reads the dependency lists of a pyproject.toml with `tomllib` and reports, as data, the
dependencies that have no version constraint, the ones whose constraints contradict each
other, and the ones that cannot be read at all.
"""

from __future__ import annotations

import re
import tomllib
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
        return bool(self.specifier) or self.url is not None


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
        found += [(f"group:{group}", text) for text in entries if isinstance(text, str)]
    return found


def compatible(clauses: Iterable[str]) -> bool | None:
    """Whether at least one version satisfies every clause together.

    Clauses are normalised ones like ">=1.0" or "<2". True if some version fits, False if
    none can (">=2" with "<1.5"; "==1.0" with "==2.0"; ">1" with "<=1"), None if this cannot
    be decided simply: a clause with a version that parse_version rejects (wildcards,
    pre-releases) or an "===" clause. "!=" clauses are ignored. "~=X.Y" means ">=X.Y" and
    "<X+1"; "~=X.Y.Z" means ">=X.Y.Z" and "<X.Y+1".
    """
    # The allowed versions form one interval; track its tightest ends as (version, inclusive).
    low: tuple[Version, bool] | None = None
    high: tuple[Version, bool] | None = None
    for clause in clauses:
        found = CLAUSE_RE.fullmatch(clause)
        if found is None or found["op"] == "===":
            return None
        op = found["op"]
        if op == "!=":
            continue
        try:
            version = parse_version(found["version"])
        except ValueError:
            return None
        bounds: list[tuple[str, Version, bool]] = []
        if op in (">=", "==", "~="):
            bounds.append(("low", version, True))
        if op == ">":
            bounds.append(("low", version, False))
        if op in ("<=", "=="):
            bounds.append(("high", version, True))
        if op == "<":
            bounds.append(("high", version, False))
        if op == "~=":
            raw = [int(p) for p in found["version"].split(".")]
            if len(raw) < 2:
                return None  # "~=1" is not a valid clause
            prefix = raw[:-1]
            bounds.append(("high", (*prefix[:-1], prefix[-1] + 1), False))
        for side, bound, inclusive in bounds:
            if side == "low":
                low = _tighter(low, (bound, inclusive), prefer_larger=True)
            else:
                high = _tighter(high, (bound, inclusive), prefer_larger=False)
    if low is None or high is None:
        return True
    (low_v, low_in), (high_v, high_in) = low, high
    return low_v < high_v or (low_v == high_v and low_in and high_in)


def _tighter(
    current: tuple[Version, bool] | None, new: tuple[Version, bool], *, prefer_larger: bool
) -> tuple[Version, bool]:
    if current is None or new[0] != current[0]:
        if current is None or (new[0] > current[0]) == prefer_larger:
            return new
        return current
    # Same version: an exclusive bound is the tighter one.
    return (new[0], new[1] and current[1])


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
    findings: list[Finding] = []
    by_name: dict[str, list[Requirement]] = {}
    for source, text in declared_dependencies(pyproject):
        try:
            requirement = parse_requirement(text, source)
        except ValueError as error:
            findings.append(Finding("invalid", text, (source,), str(error)))
            continue
        by_name.setdefault(requirement.name, []).append(requirement)

    for name, requirements in by_name.items():
        unpinned = [r.source for r in requirements if not r.pinned]
        if unpinned:
            where = ", ".join(dict.fromkeys(unpinned))
            findings.append(
                Finding(
                    "unpinned",
                    name,
                    tuple(unpinned),
                    f"{name} has no version constraint in {where}; add a lower bound, "
                    f"e.g. '{name}>=X.Y'",
                )
            )
        checked = [r for r in requirements if r.specifier and not r.marker]
        if compatible(c for r in checked for c in r.specifier) is False:
            detail = "; ".join(f"{r.source}: {','.join(r.specifier)}" for r in checked)
            findings.append(
                Finding(
                    "conflict",
                    name,
                    tuple(dict.fromkeys(r.source for r in checked)),
                    f"no version of {name} satisfies {detail}",
                )
            )
    return sorted(findings, key=lambda f: (f.package, f.kind))


def audit_file(path: str | Path) -> list[Finding]:
    """Reads the pyproject.toml at `path` and audits it.

    The file is opened in binary mode, as tomllib requires; invalid TOML raises
    tomllib.TOMLDecodeError (a ValueError) and a missing file FileNotFoundError.
    """
    with Path(path).open("rb") as file:
        return audit(tomllib.load(file))
