"""Regenerates the Python code of ``stock.proto`` (lesson 06, exercise 06.4).

    uv run python lessons/06_services/protos/generate.py

For each tree (``exercises/`` and ``solutions/``) it runs protoc from grpcio-tools:

    python -m grpc_tools.protoc -I lessons/06_services/protos \\
        --python_out=OUT --pyi_out=OUT --grpc_python_out=OUT stock.proto

with OUT = ``<tree>/06_services/stock_grpc``, which writes ``stock_pb2.py`` (the messages),
``stock_pb2.pyi`` (their types, for editors and mypy) and ``stock_pb2_grpc.py`` (the client
stub and the server base class). protoc writes ``import stock_pb2`` into ``stock_pb2_grpc.py``,
which works only when that folder is on ``sys.path``; the code lives in the package
``stock_grpc``, so the import is made relative: ``from . import stock_pb2``.

``--out DIR`` writes the three files into DIR instead (the lesson's tests use it to check that
the committed code is what this command makes from the proto).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

PROTOS = Path(__file__).resolve().parent
ROOT = PROTOS.parents[2]
PROTO = "stock.proto"
TREES = (
    ROOT / "exercises" / "06_services" / "stock_grpc",
    ROOT / "solutions" / "06_services" / "stock_grpc",
)
GENERATED = ("stock_pb2.py", "stock_pb2.pyi", "stock_pb2_grpc.py")


def generate(out: Path) -> list[Path]:
    """Runs protoc into ``out`` and makes the stub's import relative; returns the files."""
    out.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTOS}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        str(PROTOS / PROTO),
    ]
    subprocess.run(command, check=True)
    stub = out / "stock_pb2_grpc.py"
    text = stub.read_text(encoding="utf-8")
    absolute = "\nimport stock_pb2 as stock__pb2\n"
    if absolute not in text:
        raise RuntimeError(f"protoc's output changed: {absolute.strip()!r} not found in {stub}")
    stub.write_text(text.replace(absolute, "\nfrom . import stock_pb2 as stock__pb2\n"), "utf-8")
    return [out / name for name in GENERATED]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write into this folder instead of the lesson")
    args = parser.parse_args(argv)
    for tree in [args.out] if args.out else TREES:
        for path in generate(tree):
            print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()
