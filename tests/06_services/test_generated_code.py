"""The committed gRPC code is what the lesson's one command makes from stock.proto."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from journey.catalog import EXERCISES_DIR, LESSONS_DIR, ROOT, SOLUTIONS_DIR

GENERATOR = LESSONS_DIR / "06_services" / "protos" / "generate.py"
GENERATED = ("stock_pb2.py", "stock_pb2.pyi", "stock_pb2_grpc.py")


def test_committed_code_matches_the_proto(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )
    for tree in (EXERCISES_DIR, SOLUTIONS_DIR):
        for name in GENERATED:
            committed = tree / "06_services" / "stock_grpc" / name
            assert committed.read_text() == (tmp_path / name).read_text(), (
                f"{committed.relative_to(ROOT)} is not what stock.proto generates: run "
                f"`uv run python {GENERATOR.relative_to(ROOT)}` and commit the result"
            )
    stub = (tmp_path / "stock_pb2_grpc.py").read_text()
    assert "from . import stock_pb2" in stub, "the stub imports the messages relatively"
