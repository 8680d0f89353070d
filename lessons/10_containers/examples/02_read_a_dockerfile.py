"""The capstone's Dockerfile as dockerfile-parse reads it: stages, instructions, what each
COPY brings in, and the layers a change to the code rebuilds.

    uv run python lessons/10_containers/examples/02_read_a_dockerfile.py

dockerfile-parse joins continuation lines, drops comments and substitutes ARG values in FROM
lines. It reads from memory here (``fileobj=``): give it a path, or set ``.content``, and it
reads or writes a real Dockerfile.
"""

from __future__ import annotations

import io
from pathlib import Path

from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "capstone" / "Dockerfile"
# Instructions that make a filesystem layer; the others only change the image's settings.
LAYER_MAKERS = {"RUN", "COPY", "ADD"}


def main() -> None:
    parser = DockerfileParser(fileobj=io.BytesIO(DOCKERFILE.read_bytes()))
    print(
        f"{DOCKERFILE.relative_to(ROOT)}: {len(parser.structure)} entries, "
        f"multi-stage: {parser.is_multistage}, bases: {parser.parent_images}"
    )

    stage = -1
    for item in parser.structure:
        keyword = item["instruction"]
        if keyword == "COMMENT":
            continue
        if keyword == "FROM":
            stage += 1
            print(f"\nstage {stage}: FROM {item['value']}")
            continue
        value = " ".join(item["value"].split())
        layer = "layer" if keyword in LAYER_MAKERS else "     "
        shown = value if len(value) <= 70 else value[:67] + "..."
        print(f"  line {item['startline'] + 1:>3}  {layer}  {keyword:<11} {shown}")

    # Layer caching: a layer is rebuilt when its instruction or the files it copies change,
    # and so is every layer after it. Which layers does an edit to capstone/*.py rebuild?
    copies = [(n, item) for n, item in enumerate(parser.structure) if item["instruction"] == "COPY"]
    code_copy = next(n for n, item in copies if "capstone/" in item["value"].split())
    after = [
        item["instruction"]
        for item in parser.structure[code_copy:]
        if item["instruction"] in LAYER_MAKERS
    ]
    print(
        f"\nan edit to capstone/*.py rebuilds {len(after)} layers from line "
        f"{parser.structure[code_copy]['startline'] + 1} on ({', '.join(after)}); "
        "the dependency layer (uv sync) comes before it and is reused"
    )


if __name__ == "__main__":
    main()
