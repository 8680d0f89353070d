"""02.6 — A JSON Lines aggregator that runs in bounded memory."""

from __future__ import annotations

import builtins
import io
import tracemalloc
from decimal import Decimal

import pytest

from journey.targets import load

jsonl = load(__file__, "jsonl_aggregate")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"customer": "c1", "amount": "12.50"}', ("c1", Decimal("12.50"))),
        ('{"customer": "c1", "amount": 3, "type": "x"}', ("c1", Decimal(3))),
        (b'{"customer": "c\xc3\xa9", "amount": "-1"}\n', ("cé", Decimal(-1))),
        ('{"customer": "c1", "amount": 12.5}', None),
        ('{"customer": "c1", "amount": true}', None),
        ('{"customer": "c1", "amount": "NaN"}', None),
        ('{"customer": "c1", "amount": "-Infinity"}', None),
        ('{"customer": "c1", "amount": "lots"}', None),
        ('{"customer": "", "amount": "1"}', None),
        ('{"amount": "1"}', None),
        ('["c1", "1"]', None),
        ('{"customer": "c1", "amount": "1"', None),
        (b'{"customer": "\xff", "amount": "1"}', None),
    ],
)
def test_parse_record(line, expected):
    assert jsonl.parse_record(line) == expected, f"{line!r} should parse to {expected!r}"


def test_aggregate_lines_sums_per_customer_and_counts_malformed():
    lines = [
        '{"customer": "ann", "amount": "10.10"}\n',  # 1
        "not json\n",  # 2
        "\n",  # 3: blank, skipped
        '{"customer": "bob", "amount": 5}\n',  # 4
        '{"customer": "ann", "amount": "0.20"}\n',  # 5
        '{"customer": "bob", "amount": 1.5}\n',  # 6: float amount
    ]
    totals = jsonl.aggregate_lines(iter(lines))
    assert totals.by_customer == {"ann": Decimal("10.30"), "bob": Decimal(5)}, (
        "amounts are summed exactly per customer"
    )
    assert totals.records == 3
    assert totals.malformed == 2, "blank lines are skipped, not malformed"
    assert totals.malformed_lines == [2, 6], "line numbers count from 1, blank lines included"


def test_only_the_first_malformed_line_numbers_are_kept():
    lines = (f"broken {i}\n" for i in range(1000))
    totals = jsonl.aggregate_lines(lines)
    assert totals.malformed == 1000, "every malformed line is counted"
    assert totals.malformed_lines == list(range(1, jsonl.MAX_REPORTED + 1)), (
        "only the first MAX_REPORTED line numbers are kept: memory stays bounded"
    )


def test_top_customers_ranks_by_total_then_name():
    totals = jsonl.Totals(
        by_customer={"cy": Decimal(5), "ann": Decimal(9), "bob": Decimal(5), "dan": Decimal(1)}
    )
    assert jsonl.top_customers(totals, 3) == [
        ("ann", Decimal(9)),
        ("bob", Decimal(5)),
        ("cy", Decimal(5)),
    ]
    assert len(jsonl.top_customers(totals, 10)) == 4
    assert jsonl.top_customers(totals, 0) == []
    with pytest.raises(ValueError, match="negative"):
        jsonl.top_customers(totals, -1)


def test_aggregate_file_closes_the_file(tmp_path, monkeypatch):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"customer": "ann", "amount": "1.50"}\n{broken\n')
    opened = []
    real_open = io.open

    def recording_open(*args, **kwargs):
        handle = real_open(*args, **kwargs)
        opened.append(handle)
        return handle

    monkeypatch.setattr(builtins, "open", recording_open)
    monkeypatch.setattr(io, "open", recording_open)
    totals = jsonl.aggregate_file(path)
    assert (totals.records, totals.malformed) == (1, 1)
    assert opened, "aggregate_file opens the file with open() or Path.open()"
    assert all(handle.closed for handle in opened), (
        "the file is closed once the totals are made: `with path.open('rb') as f:`"
    )


CUSTOMERS = 50
BLOCK_LINES = 500  # one block: 495 good lines, 4 malformed lines, 1 blank line
BLOCKS = 30  # 15k lines of about 1 KB: a 14 MB file
PADDING = "x" * 900  # long lines make a big file from few lines (tracemalloc slows each line)


def write_big_file(path) -> None:
    """A 14 MB file in milliseconds: build one block of text once, then write it many times."""
    lines = [
        f'{{"customer": "c{i % CUSTOMERS:02d}", "amount": "{i % 7}.25",'
        f' "type": "order.placed", "note": "{PADDING}"}}\n'
        for i in range(BLOCK_LINES - 5)
    ]
    lines += ['{"customer": "c00", "amount": 1.5}\n', "{broken\n", "[]\n", "\udcff\n", "\n"]
    block = "".join(lines).encode("utf-8", "surrogateescape")
    with path.open("wb") as handle:
        for _ in range(BLOCKS):
            handle.write(block)


def expected_totals() -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for i in range(BLOCK_LINES - 5):
        key = f"c{i % CUSTOMERS:02d}"
        sums[key] = sums.get(key, Decimal(0)) + Decimal(f"{i % 7}.25")
    return {key: value * BLOCKS for key, value in sums.items()}


def test_large_file_in_bounded_memory(tmp_path):
    path = tmp_path / "events.jsonl"
    write_big_file(path)
    size = path.stat().st_size

    tracemalloc.start()
    try:
        totals = jsonl.aggregate_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert totals.records == (BLOCK_LINES - 5) * BLOCKS
    assert totals.malformed == 4 * BLOCKS, "a float amount, bad JSON, an array and bad UTF-8"
    assert totals.by_customer == expected_totals()
    assert totals.malformed_lines[:4] == [496, 497, 498, 499]
    assert peak < size / 100, (
        f"peak memory {peak:,} bytes for a {size:,}-byte file: stream it line by line "
        "instead of read()/readlines()/read_text()"
    )
