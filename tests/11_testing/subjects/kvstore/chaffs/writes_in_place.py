"""Writes the data file in place: a save that fails half-way destroys what was saved before."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

STORE_DIR_ENV = "KVSTORE_DIR"


class StoreError(Exception):
    """The store's data cannot be read; the message names the file."""


def store_dir() -> Path:
    """Where stores live by default: ``$KVSTORE_DIR`` when it is set and not empty, else
    ``~/.kvstore`` (in the home folder, ``Path.home()``, which comes from ``$HOME``)."""
    configured = os.environ.get(STORE_DIR_ENV, "")
    return Path(configured) if configured else Path.home() / ".kvstore"


class Store:
    """Values that JSON can encode, saved under string keys in a folder.

    - ``Store(folder=None)``: ``None`` means :func:`store_dir`, looked up when the store is
      made. A folder that does not exist yet is created (with its parents) by the first save;
      until then the store is empty, and reading it creates nothing.
    - ``save(key, value)``: a new ``Store`` on the same folder sees the value. A value JSON
      cannot encode raises ``TypeError`` and leaves the folder exactly as it was: everything
      saved before is still there, and no new file is left behind.
    - ``get(key, default=None)``: the value saved under ``key``, else ``default``.
    - ``keys()``: the saved keys, in no particular order.
    - Data in the folder that are not valid JSON: ``get`` and ``keys`` raise ``StoreError``,
      whose message contains the path of the file that is broken.

    How many files the store keeps, and their names, are not part of the contract.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else store_dir()
        self._file = self.folder / "data.json"

    def _read(self) -> dict[str, Any]:
        try:
            text = self._file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise StoreError(f"{self._file} is not valid JSON: {error}") from error
        if not isinstance(data, dict):
            raise StoreError(f"{self._file} does not hold a JSON object")
        return data

    def get(self, key: str, default: Any = None) -> Any:
        return self._read().get(key, default)

    def keys(self) -> list[str]:
        return list(self._read())

    def save(self, key: str, value: Any) -> None:
        data = self._read()
        data[key] = value
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._file.open("w", encoding="utf-8") as file:
            json.dump(data, file)
