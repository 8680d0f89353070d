"""01.7 Reading a project's dependency declarations (the dependency audit, stage 1)."""

import re
import tomllib

import pytest

from journey.targets import load

requirements = load(__file__, "requirements")

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
    ("name", "expected"),
    [
        ("Requests", "requests"),
        ("typing_extensions", "typing-extensions"),
        ("Zope.Interface", "zope-interface"),
        ("a-_.b", "a-b"),
    ],
)
def test_normalize_name(name: str, expected: str) -> None:
    assert requirements.normalize_name(name) == expected, "PEP 503: lowercase, -_. -> '-'"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.10.0", (1, 10)), ("1.0", (1,)), ("2", (2,)), ("0.0.1", (0, 0, 1)), ("10.0.3", (10, 0, 3))],
)
def test_parse_version(text: str, expected: tuple[int, ...]) -> None:
    assert requirements.parse_version(text) == expected, "ints, trailing zeros dropped"


@pytest.mark.parametrize("text", ["1.0rc1", "1.*", "", "v1", "1..2"])
def test_parse_version_rejects_non_release_versions(text: str) -> None:
    with pytest.raises(ValueError, match="version"):
        requirements.parse_version(text)


def test_parse_requirement_full() -> None:
    got = requirements.parse_requirement(
        "HTTPX[Http2, cli] >= 0.27 , <1 ; python_version < '3.13'", "group:dev"
    )
    assert got == requirements.Requirement(
        name="httpx",
        extras=("cli", "http2"),
        specifier=(">=0.27", "<1"),
        url=None,
        marker="python_version < '3.13'",
        source="group:dev",
    )
    assert got.pinned


@pytest.mark.parametrize(
    ("text", "specifier", "url", "pinned"),
    [
        ("requests", (), None, False),
        ("requests (>=2.0)", (">=2.0",), None, True),
        ("requests~=2.31", ("~=2.31",), None, True),
        ("lib @ https://example.org/lib.whl", (), "https://example.org/lib.whl", True),
    ],
)
def test_parse_requirement_forms(
    text: str, specifier: tuple[str, ...], url: str | None, pinned: bool
) -> None:
    got = requirements.parse_requirement(text)
    assert (got.specifier, got.url, got.pinned) == (specifier, url, pinned)
    assert got.source == "project", "the default source is 'project'"


@pytest.mark.parametrize("text", ["", "requests>>2", "==1.0", "not a requirement!", "lib @"])
def test_parse_requirement_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        requirements.parse_requirement(text)


def test_declared_dependencies_in_file_order() -> None:
    got = requirements.declared_dependencies(tomllib.loads(PYPROJECT))
    assert got == [
        ("project", "fastapi>=0.115"),
        ("project", "Requests"),
        ("project", "httpx[http2] >= 0.27, < 1"),
        ("project", "pydantic==2.9.0"),
        ("project", "tomli; python_version < '3.11'"),
        ("project", "mylib @ https://example.org/mylib-1.0.tar.gz"),
        ("optional:cli", "typer>=0.12"),
        ("optional:cli", "requests>=2.31"),
        ("group:dev", "pytest"),
        ("group:dev", "pydantic>=2.10"),
        ("group:lint", "ruff>=0.8"),
        ("group:lint", "not a requirement!"),
    ], "include-group tables are skipped; sources say where each string came from"


def test_declared_dependencies_of_an_empty_project() -> None:
    assert requirements.declared_dependencies({"project": {"name": "x"}}) == []
    assert requirements.declared_dependencies({}) == []
