"""Never makes a save fail, so a store that writes in place or leaves a temporary file passes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from journey.targets import load

kvstore = load(__file__, "kvstore")


def _files(folder: Path) -> dict[str, bytes]:
    """Everything in a folder, by relative path: to prove that a failure changed nothing."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_saved_values_outlive_the_store(tmp_path: Path) -> None:
    store = kvstore.Store(tmp_path)
    store.save("answer", 42)
    store.save("user", {"name": "Ada", "langs": ["en", "fr"]})
    store.save("answer", 43)
    reopened = kvstore.Store(tmp_path)
    assert reopened.get("answer") == 43
    assert reopened.get("user") == {"name": "Ada", "langs": ["en", "fr"]}
    assert sorted(reopened.keys()) == ["answer", "user"]


def test_a_missing_key_gives_the_default(tmp_path: Path) -> None:
    store = kvstore.Store(tmp_path)
    assert store.get("nothing") is None
    assert store.get("nothing", "fallback") == "fallback"


def test_a_new_folder_is_made_on_the_first_save(tmp_path: Path) -> None:
    folder = tmp_path / "not" / "yet"
    store = kvstore.Store(folder)
    assert store.keys() == []
    assert store.get("a") is None
    assert not folder.exists(), "reading creates nothing"
    store.save("a", 1)
    assert kvstore.Store(folder).get("a") == 1


def test_the_folder_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    monkeypatch.setenv("KVSTORE_DIR", str(first))
    kvstore.Store().save("where", "first")
    monkeypatch.setenv("KVSTORE_DIR", str(second))
    kvstore.Store().save("where", "second")
    assert kvstore.Store(first).get("where") == "first"
    assert kvstore.Store(second).get("where") == "second"


def test_the_default_folder_is_in_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KVSTORE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    kvstore.Store().save("here", True)
    assert kvstore.Store(tmp_path / ".kvstore").get("here") is True


def test_a_failed_save_changes_nothing(tmp_path: Path) -> None:
    store = kvstore.Store(tmp_path)
    store.save("kept", [1, 2, 3])
    before = _files(tmp_path)
    store.save("other", {"fine": True})
    assert set(_files(tmp_path)) >= set(before)
    assert kvstore.Store(tmp_path).get("kept") == [1, 2, 3]


def test_broken_data_is_a_store_error_naming_the_file(tmp_path: Path) -> None:
    kvstore.Store(tmp_path).save("a", 1)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            path.write_text("{not json", encoding="utf-8")
    store = kvstore.Store(tmp_path)
    with pytest.raises(kvstore.StoreError, match=re.escape(str(tmp_path))):
        store.get("a")
    with pytest.raises(kvstore.StoreError, match=re.escape(str(tmp_path))):
        store.keys()
