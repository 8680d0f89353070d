"""Executes lesson notebooks from a clean kernel and saves them with their outputs.

    uv run python -m journey.notebooks                       # every notebook
    uv run python -m journey.notebooks notebooks/02_data_io.ipynb

Notebooks are committed with outputs so they read well on a code host; CI re-executes them
(``pytest --nbmake``) to prove they still run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from journey.catalog import NOTEBOOKS_DIR

TIMEOUT_SECONDS = 300


def execute_in_place(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=TIMEOUT_SECONDS,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    nbformat.validate(notebook)
    nbformat.write(notebook, path)


def main(argv: list[str]) -> int:
    paths = [Path(arg) for arg in argv] or sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    for path in paths:
        print(f"executing {path} ...", flush=True)
        execute_in_place(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
