"""Reads ~=2.2 as '>=2.2, <2.3' instead of '>=2.2, <3'.

01.8 Auditing a project's dependencies from pyproject.toml (core; stage 2).

Reads the dependency lists of a pyproject.toml with `tomllib` and reports, as data, the
dependencies that have no version constraint, the ones whose constraints contradict each
other, and the ones that cannot be read at all. It builds on 01.7: `declared_dependencies`
finds the strings and `parse_requirement` reads each one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .requirements import (
    CLAUSE_RE,
    Requirement,
    Version,
    declared_dependencies,
    parse_requirement,
    parse_version,
)

FindingKind = Literal["conflict", "invalid", "unpinned"]


@dataclass(frozen=True)
class Finding:
    """One problem: what kind, which package, where it was declared, and a readable detail."""

    kind: FindingKind
    package: str
    sources: tuple[str, ...]
    detail: str


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
            prefix = raw
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
                    tuple(dict.fromkeys(unpinned)),  # dict.fromkeys: de-duplicate, keep order
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
