"""01.8 Auditing a project's dependencies from pyproject.toml (core; stage 2).

Reads the dependency lists of a pyproject.toml with `tomllib` and reports, as data, the
dependencies that have no version constraint, the ones whose constraints contradict each
other, and the ones that cannot be read at all. It builds on 01.7: `declared_dependencies`
finds the strings and `parse_requirement` reads each one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .requirements import (  # noqa: F401 (01.7's functions, for you to use in the bodies)
    CLAUSE_RE,
    Requirement,
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
    raise NotImplementedError("01.8: does some version satisfy every clause?")


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
    raise NotImplementedError("01.8: report invalid, unpinned and conflicting dependencies")


def audit_file(path: str | Path) -> list[Finding]:
    """Reads the pyproject.toml at `path` and audits it.

    The file is opened in binary mode, as tomllib requires; invalid TOML raises
    tomllib.TOMLDecodeError (a ValueError) and a missing file FileNotFoundError.
    """
    raise NotImplementedError("01.8: load the file with tomllib and audit it")
