"""Lesson 10's tests need no backing service and no Docker engine: every check reads text.

jsonschema (under the compose validator, 10.5, and kubernetes-validate, 10.7) registers an
optional "iri" format checker from the package rfc3987_syntax, which compiles a grammar when
it is imported: about a second of CPU on every ``journey check 10``. No schema of this lesson
uses that format, and no check here turns format checking on, so jsonschema is imported once
here without that optional package, which stays importable for anyone else afterwards.
"""

from __future__ import annotations

import sys

import pytest

if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
    try:
        import jsonschema  # noqa: F401 - imported for its side effect on sys.modules
    finally:
        if sys.modules.get("rfc3987_syntax", object()) is None:
            del sys.modules["rfc3987_syntax"]


@pytest.fixture(autouse=True)
def _run_in_an_empty_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test runs in an empty folder of its own: a checker that writes files (given text
    through its ``content`` setter, DockerfileParser writes ./Dockerfile) leaves nothing in the
    lab. The tests find the lab's own files by absolute paths."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
