"""A tour of pathlib, os and shutil inside a throwaway folder.

Run: uv run python lessons/02_data_io/examples/01_pathlib_shutil_tour.py
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="journey-02-") as tmp:
        root = Path(tmp)

        # Build paths with `/`, never with string concatenation: separators are handled for you.
        project = root / "project"
        (project / "src" / "shop").mkdir(parents=True)
        (project / "src" / "shop" / "__init__.py").write_text("", encoding="utf-8")
        (project / "src" / "shop" / "models.py").write_text(
            "class Product: ...\n", encoding="utf-8"
        )
        (project / "README.md").write_text("# Shop\n", encoding="utf-8")
        (project / "notes.txt").write_text("remember the milk\n", encoding="utf-8")

        models = project / "src" / "shop" / "models.py"
        print(
            "name, stem, suffix, parent:",
            models.name,
            models.stem,
            models.suffix,
            models.parent.name,
        )
        print("relative to the project:", models.relative_to(project).as_posix())
        print("with another suffix:", models.with_suffix(".pyi").name)
        print("size in bytes:", models.stat().st_size)

        # glob / rglob find files; sort them, because the order on disk is not defined.
        python_files = sorted(p.relative_to(project).as_posix() for p in project.rglob("*.py"))
        print("python files:", python_files)

        # os.scandir is the fast, low-level way to list one folder (pathlib uses it too).
        with os.scandir(project) as entries:
            print("top level:", sorted(f"{e.name}{'/' if e.is_dir() else ''}" for e in entries))

        # shutil: copies, moves, whole trees, archives, disk usage.
        copy = shutil.copytree(project, root / "copy", ignore=shutil.ignore_patterns("*.txt"))
        print("copytree without *.txt:", sorted(p.name for p in Path(copy).iterdir()))
        shutil.move(project / "notes.txt", root / "notes.txt")
        print(
            "moved notes.txt out:", (root / "notes.txt").exists(), (project / "notes.txt").exists()
        )
        archive = shutil.make_archive(str(root / "project-backup"), "zip", root_dir=project)
        print("archive:", Path(archive).name, Path(archive).stat().st_size, "bytes")
        shutil.rmtree(copy)
        print("after rmtree:", sorted(p.name for p in root.iterdir()))
        usage = shutil.disk_usage(root)
        print(f"free space here: {usage.free / 2**30:.1f} GiB")

        # Environment variables are strings; give a default rather than crash on a missing one.
        print("JOURNEY_DEMO_LEVEL =", os.environ.get("JOURNEY_DEMO_LEVEL", "INFO"))
    print("the temporary folder is gone:", not root.exists())


if __name__ == "__main__":
    main()
