"""Virtual environments and dependencies: where this interpreter lives, what is installed,
and what this project declares in pyproject.toml and pins in uv.lock.

Run: uv run python lessons/01_fundamentals/examples/07_environments_and_dependencies.py
"""

from __future__ import annotations

import importlib.metadata as metadata
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]  # examples -> 01_fundamentals -> lessons -> root

# -- a virtual environment is a folder with its own interpreter link and site-packages ----
in_venv = sys.prefix != sys.base_prefix
print(f"python {sys.version.split()[0]} at {sys.executable}")
print(f"inside a virtual environment: {in_venv} (sys.prefix = {sys.prefix})")

# -- pyproject.toml declares what the project needs, as ranges -----------------------------
with (ROOT / "pyproject.toml").open("rb") as file:  # tomllib reads bytes
    pyproject = tomllib.load(file)
project = pyproject["project"]
print(f"\n{project['name']} needs Python {project['requires-python']} and declares:")
for requirement in project["dependencies"][:6]:
    print("  ", requirement)
print(
    f"   ... {len(project['dependencies'])} in all, plus groups:",
    list(pyproject["dependency-groups"]),
)

# -- the lock file pins the exact version that was resolved for each of them ---------------
lock_path = ROOT / "uv.lock"
if lock_path.exists():
    lock = tomllib.loads(lock_path.read_text(encoding="utf-8"))
    pinned = {package["name"]: package["version"] for package in lock.get("package", [])}
    print(f"\nuv.lock pins {len(pinned)} packages (direct and transitive), e.g.:")
    for name in ["pydantic", "pydantic-core", "fastapi", "starlette"]:
        print(f"   {name:15} == {pinned.get(name, '?')}")

# -- and the environment holds what was actually installed ----------------------------------
print("\ninstalled in this environment:")
for name in ["pydantic", "fastapi", "pytest"]:
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        print(f"   {name}: not installed")
        continue
    # requirements marked `extra == "..."` only install with that extra, e.g. fastapi[all]
    base = [r for r in dist.requires or [] if "extra ==" not in r]
    print(f"   {name} {dist.version}, which requires {len(base)} packages (without extras)")

print(
    "\nthe commands behind all this:\n"
    "   uv sync                 create .venv and install exactly what uv.lock says\n"
    "   uv add 'httpx>=0.28'    declare a dependency in pyproject.toml and re-lock\n"
    "   uv lock --upgrade       re-resolve to the newest allowed versions\n"
    "   uv run pytest           run a command inside the project's environment\n"
    "with the classic tools, `python -m venv .venv && .venv/bin/pip install -e .` installs the\n"
    "project and its [project] dependencies at the newest versions the ranges allow today:\n"
    "no lock file is read and no dependency group is installed (pip 25.1+: --group dev)."
)
