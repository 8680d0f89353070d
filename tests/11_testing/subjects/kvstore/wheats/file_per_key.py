"""A correct store that keeps each key in a file of its own."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

STORE_DIR_ENV = "KVSTORE_DIR"


class StoreError(Exception):
    pass


def store_dir() -> Path:
    return Path(os.environ.get(STORE_DIR_ENV) or Path.home() / ".kvstore")


class Store:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else store_dir()

    def _path(self, key: str) -> Path:
        return self.folder / f"{quote(key, safe='')}.value"

    def _load(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise StoreError(f"cannot read {path}: {error}") from error

    def get(self, key: str, default: Any = None) -> Any:
        path = self._path(key)
        return self._load(path) if path.exists() else default

    def keys(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.glob("*.value"), reverse=True):
            self._load(path)
            found.append(unquote(path.name.removesuffix(".value")))
        return found

    def save(self, key: str, value: Any) -> None:
        text = json.dumps(value)  # a value JSON cannot encode fails here, before any file
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(key)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
