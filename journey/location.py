"""Where the lab is, for a ``journey`` started from somewhere else.

``uv run journey`` only works inside the lab's folder (uv finds the project from the current
folder), so that is what the README tells a learner. A ``journey`` started another way (the
lab's ``.venv/bin/journey`` from elsewhere, or a copy installed without the lab) says where the
lab is, or how to get there.
"""

from __future__ import annotations

from pathlib import Path

from journey.catalog import ROOT

PROJECT_NAME = "python-learning-journey"


def is_lab(folder: Path) -> bool:
    """A clone of the lab: lessons/ and exercises/ beside a pyproject.toml of this project."""
    pyproject = folder / "pyproject.toml"
    if not ((folder / "lessons").is_dir() and (folder / "exercises").is_dir()):
        return False
    try:
        return f'name = "{PROJECT_NAME}"' in pyproject.read_text(encoding="utf-8")
    except OSError:
        return False


def find_lab(start: Path) -> Path | None:
    """The lab that ``start`` is in, looking up its parent folders."""
    for folder in (start, *start.parents):
        if is_lab(folder):
            return folder
    return None


def lab_problem(root: Path = ROOT, cwd: Path | None = None) -> str | None:
    """None when this journey belongs to a lab; otherwise what to tell the learner."""
    if is_lab(root):
        return None
    here = find_lab((cwd or Path.cwd()).resolve())
    if here is not None:
        return (
            f"this journey is not the one of the lab at {here}. Run the lab's own: "
            f"cd {here} && uv run journey"
        )
    return (
        "journey runs inside a clone of the Python Learning Journey lab, and this folder is "
        "not in one. cd into the folder you cloned (it has lessons/ and pyproject.toml) and "
        "run: uv run journey"
    )


def outside_note(root: Path = ROOT, cwd: Path | None = None) -> str | None:
    """A reminder when the learner works from outside the lab's folder."""
    here = (cwd or Path.cwd()).resolve()
    if here == root or here.is_relative_to(root):
        return None
    return (
        f"You are outside the lab. It is at {root}: cd there to edit exercises and to run "
        "`uv run ...` commands."
    )
