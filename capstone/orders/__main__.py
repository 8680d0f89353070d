"""``python -m capstone.orders [migrate|serve]`` (lessons 04, 07, 12)."""

from pathlib import Path
from typing import Any

from capstone.common.service import run_cli
from capstone.orders.settings import OrdersSettings


def _serve(settings: Any) -> None:
    from capstone.orders.app import serve

    serve(settings)


if __name__ == "__main__":
    run_cli("orders", OrdersSettings, _serve, Path(__file__).parent / "migrations")
