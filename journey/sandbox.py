"""A private copy of the lab, for tests and benchmarks of ``journey`` itself.

``python -m journey`` run inside the copy imports the copy's ``journey`` package (the current
folder comes first on ``sys.path``), so it checks, records progress and writes LEARNING_LOG.md
there, never in the learner's own tree.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from journey.catalog import ROOT, lessons

COPIED = (
    "journey",
    "lessons",
    "exercises",
    "solutions",
    "mutants",
    "pyproject.toml",
    "LEARNING_LOG.md",
    # what lesson 10's capstone piece checks: the capstone's deployment files and their context
    "uv.lock",
    ".dockerignore",
    "capstone/Dockerfile",
    "capstone/compose.yaml",
    "capstone/k8s",
)


def copy_lab(target: Path) -> Path:
    """Copies what a lesson check needs, and the mutants (not the capstone's code, notebooks or
    state), into ``target``."""
    ignore = shutil.ignore_patterns("__pycache__", ".journey")
    target.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = ROOT / name
        if not source.exists():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)
    for lesson in lessons():
        tests = Path("tests") / lesson.folder
        shutil.copytree(ROOT / tests, target / tests, ignore=ignore)
    return target
