"""Streaming a JSON Lines file: constant memory, whatever the file's size.

Run: uv run python lessons/02_data_io/examples/07_jsonl_streaming.py
"""

from __future__ import annotations

import tempfile
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import orjson


def write_events(path: Path, lines: int) -> None:
    kinds = ["order.placed", "order.paid", "order.shipped", "order.cancelled"]
    with path.open("wb") as handle:
        for i in range(lines):
            event = {"type": kinds[i % 4], "customer": f"c-{i % 500}", "amount": f"{i % 90}.50"}
            handle.write(orjson.dumps(event) + b"\n")
        handle.write(b"{this line is broken\n")


def count_whole_file(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in path.read_bytes().splitlines():  # the whole file in memory, then a list of lines
        try:
            counts[orjson.loads(line)["type"]] += 1
        except orjson.JSONDecodeError:
            counts["<malformed>"] += 1
    return counts


def count_streaming(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    with path.open("rb") as handle:
        for line in handle:  # one line at a time
            try:
                counts[orjson.loads(line)["type"]] += 1
            except orjson.JSONDecodeError:
                counts["<malformed>"] += 1
    return counts


def peak_memory(function: Callable[[Path], Counter[str]], path: Path) -> tuple[Counter[str], int]:
    tracemalloc.start()
    try:
        result = function(path)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="journey-02-") as tmp:
        path = Path(tmp) / "events.jsonl"
        write_events(path, 20_000)
        print(f"file: {path.stat().st_size:,} bytes")
        for function in (count_whole_file, count_streaming):
            counts, peak = peak_memory(function, path)
            print(f"{function.__name__:17} peak {peak:>12,} bytes  {dict(sorted(counts.items()))}")
        print("-> the streaming version's peak does not grow with the file")


if __name__ == "__main__":
    main()
