"""``python -m capstone.catalog [migrate|serve]`` (lessons 03 and 04)."""

from pathlib import Path
from typing import Any

from capstone.catalog.settings import CatalogSettings
from capstone.common.service import run_cli


def _serve(settings: Any) -> None:
    from capstone.catalog.app import serve

    serve(settings)


if __name__ == "__main__":
    run_cli("catalog", CatalogSettings, _serve, Path(__file__).parent / "migrations")
