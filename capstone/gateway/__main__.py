"""``python -m capstone.gateway [migrate|serve]`` (lessons 03, 05, 08, 12)."""

from pathlib import Path
from typing import Any

from capstone.common.service import run_cli
from capstone.gateway.settings import GatewaySettings


def _serve(settings: Any) -> None:
    from capstone.gateway.app import serve

    serve(settings)


if __name__ == "__main__":
    run_cli("gateway", GatewaySettings, _serve, Path(__file__).parent / "migrations")
