"""``python -m capstone.inventory [migrate|serve]`` (lesson 06)."""

from pathlib import Path
from typing import Any

from capstone.common.service import run_cli
from capstone.inventory.settings import InventorySettings


def _serve(settings: Any) -> None:
    from capstone.inventory.server import serve

    serve(settings)


if __name__ == "__main__":
    run_cli("inventory", InventorySettings, _serve, Path(__file__).parent / "migrations")
