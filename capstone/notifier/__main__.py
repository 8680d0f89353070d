"""``python -m capstone.notifier [migrate|serve]`` (lesson 07)."""

from pathlib import Path
from typing import Any

from capstone.common.service import run_cli
from capstone.notifier.settings import NotifierSettings


def _serve(settings: Any) -> None:
    from capstone.notifier.app import serve

    serve(settings)


if __name__ == "__main__":
    run_cli("notifier", NotifierSettings, _serve, Path(__file__).parent / "migrations")
