"""Regenerates the Python code of the inventory gRPC contract.

    uv run python -m capstone.contracts.generate

runs protoc from grpcio-tools:

    python -m grpc_tools.protoc -I capstone/contracts/protos \\
        --python_out=capstone/contracts --pyi_out=capstone/contracts \\
        --grpc_python_out=capstone/contracts inventory.proto

which writes ``inventory_pb2.py`` (the messages), ``inventory_pb2.pyi`` (their types) and
``inventory_pb2_grpc.py`` (the client stub and the server base class). protoc writes
``import inventory_pb2`` into the stub; the code lives in the package ``capstone.contracts``,
so that import is made relative. ``--out DIR`` writes the files elsewhere (a test compares them
with the committed ones).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTOS = HERE / "protos"
PROTO = "inventory.proto"
GENERATED = ("inventory_pb2.py", "inventory_pb2.pyi", "inventory_pb2_grpc.py")


def generate(out: Path = HERE) -> list[Path]:
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
    stub = out / "inventory_pb2_grpc.py"
    text = stub.read_text(encoding="utf-8")
    absolute = "\nimport inventory_pb2 as inventory__pb2\n"
    if absolute not in text:
        raise RuntimeError(f"protoc's output changed: {absolute.strip()!r} not found in {stub}")
    relative = "\nfrom . import inventory_pb2 as inventory__pb2\n"
    stub.write_text(text.replace(absolute, relative), "utf-8")
    return [out / name for name in GENERATED]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="where to write the files")
    for path in generate(parser.parse_args(argv).out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
