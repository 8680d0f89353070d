"""11.3 Test a key-value store on disk (core): ``tmp_path`` for files, ``monkeypatch`` for
environment variables, and failures that must leave nothing behind.

The code under test is ``kvstore.py`` beside this file; the ``Store`` docstring is the
contract. Never let a test touch your real home folder or a fixed path: pytest's ``tmp_path``
fixture is a new empty folder for each test, and ``monkeypatch.setenv``/``delenv`` change an
environment variable for one test only (pytest puts it back afterwards).

A correct store may keep its data in other files, with other names, than the one you read:
a test that opens ``data.json`` by name over-specifies. Look at a folder's files as a whole
(``tmp_path.rglob("*")``) when you need to.
"""

from __future__ import annotations

import pytest  # noqa: F401 - the tests you write will use it

from journey.targets import load

kvstore = load(__file__, "kvstore")


def test_saved_values_outlive_the_store() -> None:
    """Values saved (and one saved again) through a store are there for a new ``Store`` on
    the same folder; ``keys()`` lists them (compare them in any order)."""
    raise NotImplementedError("11.3: save in tmp_path, reopen, and check")


def test_a_missing_key_gives_the_default() -> None:
    """``get`` of a key never saved: ``None``, or the ``default`` given."""
    raise NotImplementedError("11.3: get a key that was never saved")


def test_a_new_folder_is_made_on_the_first_save() -> None:
    """A folder that does not exist yet (even its parent): the store reads as empty, reading
    creates nothing, and the first save creates it."""
    raise NotImplementedError("11.3: use a folder under tmp_path that does not exist yet")


def test_the_folder_comes_from_the_environment() -> None:
    """With ``KVSTORE_DIR`` set (``monkeypatch.setenv``), ``Store()`` saves there; set it to
    another folder and the next ``Store()`` uses that one."""
    raise NotImplementedError("11.3: monkeypatch.setenv KVSTORE_DIR, twice")


def test_the_default_folder_is_in_the_home_folder() -> None:
    """Without ``KVSTORE_DIR`` (``monkeypatch.delenv(..., raising=False)``), ``Store()`` saves
    in ``~/.kvstore``: point ``HOME`` at ``tmp_path`` first."""
    raise NotImplementedError("11.3: delenv KVSTORE_DIR, setenv HOME, save, look")


def test_a_failed_save_changes_nothing() -> None:
    """Saving ``object()`` (JSON cannot encode it) raises ``TypeError``; every file in the
    folder is as it was (contents too) and the earlier values are still there."""
    raise NotImplementedError("11.3: compare the folder's files before and after")


def test_broken_data_is_a_store_error_naming_the_file() -> None:
    """Overwrite every file in the folder with text that is not JSON: ``get`` and ``keys``
    raise ``kvstore.StoreError``, and the message contains the folder's path."""
    raise NotImplementedError("11.3: break the files, then pytest.raises(kvstore.StoreError)")
