"""01.8 Auditing a project's dependencies from pyproject.toml (stage 2)."""

import tomllib
from pathlib import Path

import pytest

from journey.targets import load

dependency_audit = load(__file__, "dependency_audit")

PYPROJECT = """\
[project]
name = "shop"
dependencies = [
    "fastapi>=0.115",
    "Requests",
    "httpx[http2] >= 0.27, < 1",
    "pydantic==2.9.0",
    "tomli; python_version < '3.11'",
    "mylib @ https://example.org/mylib-1.0.tar.gz",
]

[project.optional-dependencies]
cli = ["typer>=0.12", "requests>=2.31"]

[dependency-groups]
dev = ["pytest", "pydantic>=2.10", {include-group = "lint"}]
lint = ["ruff>=0.8", "not a requirement!"]
"""


@pytest.mark.parametrize(
    ("clauses", "expected"),
    [
        ([">=1.0", "<2"], True),
        ([">=2", "<1.5"], False),
        (["==1.0", "==2.0"], False),
        (["==1.0", "==1"], True),
        ([">1", "<=1"], False),
        ([">=1", "<=1"], True),
        (["~=2.2", ">=3"], False),
        (["~=1.4.2", "<1.4.5"], True),
        (["~=1.4.2", ">=1.5"], False),
        (["~=2.2", ">=2.5"], True),  # ~=2.2 means >=2.2, <3: 2.5 fits
        ([">=1", ">1", "<=1"], False),  # >1 is tighter than >=1
        (["<=2", "<2", ">=2"], False),  # <2 is tighter than <=2
        (["===1.0", "<2"], None),
        (["!=1.0", ">=0.5"], True),
        (["==1.*", "==2.0"], None),
        ([">=1.0rc1", "<1"], None),
        ([], True),
    ],
)
def test_compatible(clauses: list[str], expected: bool | None) -> None:
    got = dependency_audit.compatible(clauses)
    assert got is expected, f"compatible({clauses}) should be {expected}"


def test_audit_reports_structured_findings() -> None:
    Finding = dependency_audit.Finding
    got = dependency_audit.audit(tomllib.loads(PYPROJECT))
    assert [(f.kind, f.package, f.sources) for f in got] == [
        ("invalid", "not a requirement!", ("group:lint",)),
        ("conflict", "pydantic", ("project", "group:dev")),
        ("unpinned", "pytest", ("group:dev",)),
        ("unpinned", "requests", ("project",)),
        ("unpinned", "tomli", ("project",)),
    ], "sorted by (package, kind); a URL counts as pinned; httpx's two clauses are compatible"
    conflict = got[1]
    assert isinstance(conflict, Finding)
    for clause in ("==2.9.0", ">=2.10"):
        assert clause in conflict.detail, "the detail shows the clauses that cannot all hold"
    assert "requests" in got[3].detail


def test_unpinned_in_several_places_is_one_finding() -> None:
    data = {"project": {"dependencies": ["rich"]}, "dependency-groups": {"dev": ["Rich"]}}
    got = dependency_audit.audit(data)
    assert [(f.kind, f.package, f.sources) for f in got] == [
        ("unpinned", "rich", ("project", "group:dev"))
    ], "one finding per package, listing every place it is unpinned"


def test_unpinned_sources_have_no_repeats() -> None:
    data = {"project": {"dependencies": ["rich", "rich[jupyter]"]}}
    got = dependency_audit.audit(data)
    assert [(f.kind, f.package, f.sources) for f in got] == [("unpinned", "rich", ("project",))], (
        "a source is listed once, even when the package is unpinned twice there"
    )


def test_requirements_with_markers_are_not_checked_for_conflicts() -> None:
    data = {
        "project": {
            "dependencies": [
                "numpy>=2; python_version >= '3.12'",
                "numpy<2; python_version < '3.12'",
            ]
        }
    }
    assert dependency_audit.audit(data) == [], "different markers apply to different Pythons"


def test_clean_project_has_no_findings() -> None:
    data = {"project": {"dependencies": ["a>=1", "b==2.0"]}, "dependency-groups": {"x": ["a<3"]}}
    assert dependency_audit.audit(data) == []


def test_audit_file(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\ndependencies = ["flask"]\n', encoding="utf-8")
    got = dependency_audit.audit_file(path)
    assert [(f.kind, f.package) for f in got] == [("unpinned", "flask")]


def test_audit_file_with_invalid_toml(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[project\n", encoding="utf-8")
    with pytest.raises(tomllib.TOMLDecodeError):
        dependency_audit.audit_file(path)


def test_audit_of_this_very_project_finds_no_conflicts() -> None:
    root = Path(__file__).resolve().parents[2]
    got = dependency_audit.audit_file(root / "pyproject.toml")
    assert [f for f in got if f.kind != "unpinned"] == [], "the lab's own pyproject is consistent"
