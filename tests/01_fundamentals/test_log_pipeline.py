"""01.2 A lazy generator pipeline over a large log."""

import builtins
import io
import itertools
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from journey.targets import load

log_pipeline = load(__file__, "log_pipeline")
Request = log_pipeline.Request

LOG = """\
2025-01-02T03:04:05Z GET /books 200 35ms
2025-01-02T03:04:06Z POST /orders 201 120ms

2025-01-02T03:04:07Z GET /books/999 404 8ms
this line is garbage
2025-01-02T03:04:08Z GET /checkout 503 2500ms
2025-01-02T03:04:09Z GET /books/7 200 120ms
"""
REQUESTS = [
    Request("GET", "/books", 200, 35),
    Request("POST", "/orders", 201, 120),
    Request("GET", "/books/999", 404, 8),
    Request("GET", "/checkout", 503, 2500),
    Request("GET", "/books/7", 200, 120),
]


class TooFar(AssertionError):
    """Raised by a guarded source when a stage reads more than it needs."""


def guarded(items: list[str], allowed: int) -> Iterator[str]:
    """Cycles through `items` forever, but fails once more than `allowed` were pulled."""
    for pulled, item in enumerate(itertools.cycle(items), start=1):
        if pulled > allowed:
            raise TooFar(f"read {pulled} items where {allowed} were enough: not lazy")
        yield item


@pytest.fixture
def opened_files(monkeypatch: pytest.MonkeyPatch) -> list[io.IOBase]:
    """Every file opened through open() or Path.open() while the test runs."""
    files: list[io.IOBase] = []
    real_open = io.open

    def recording_open(*args: object, **kwargs: object) -> io.IOBase:
        handle = real_open(*args, **kwargs)  # type: ignore[call-overload]
        files.append(handle)
        return handle

    monkeypatch.setattr(builtins, "open", recording_open)
    monkeypatch.setattr(io, "open", recording_open)
    return files


def write_log(path: Path, text: str = LOG) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


# -- read_lines ------------------------------------------------------------------------------


def test_read_lines_gives_lines_without_their_endings(tmp_path: Path) -> None:
    path = write_log(tmp_path / "access.log", "first\r\nsecond\n\ncafé ☕\nlast without newline")
    got = list(log_pipeline.read_lines(path))
    assert got == ["first", "second", "", "café ☕", "last without newline"], (
        "one str per line, without '\\n' or '\\r\\n', decoded as UTF-8; blank lines stay"
    )
    assert list(log_pipeline.read_lines(str(path))) == got, "a str path works too"


def test_read_lines_reads_only_what_is_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    line = "2025-01-02T03:04:05Z GET /books 200 35ms " + "x" * 200 + "\n"
    path.write_text(line * 10_000, encoding="utf-8")  # about 2.5 MB
    size = path.stat().st_size
    tracemalloc.start()
    try:
        first_three = list(itertools.islice(log_pipeline.read_lines(path), 3))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert first_three == [line.rstrip("\n")] * 3
    assert peak < size / 20, (
        f"taking 3 lines of a {size:,}-byte file peaked at {peak:,} bytes: iterate over the "
        "file object one line at a time instead of read(), readlines() or read_text()"
    )


def test_the_file_is_closed_when_the_lines_run_out(
    tmp_path: Path, opened_files: list[io.IOBase]
) -> None:
    lines = log_pipeline.read_lines(write_log(tmp_path / "access.log"))
    assert sum(1 for _ in lines) == 7
    assert opened_files, "read_lines opens the file with open() or Path.open()"
    assert all(f.closed for f in opened_files), (
        "once the last line is given, the file is closed: open it with `with` inside the generator"
    )


def test_the_file_is_closed_when_the_consumer_stops_early(
    tmp_path: Path, opened_files: list[io.IOBase]
) -> None:
    lines = log_pipeline.read_lines(write_log(tmp_path / "access.log"))
    assert next(lines).endswith("35ms")
    lines.close()  # what a for loop that breaks does, once the generator is garbage collected
    assert opened_files, "read_lines opens the file with open() or Path.open()"
    assert all(f.closed for f in opened_files), (
        "closing the generator early must close the file: `with open(...)` inside the "
        "generator function does it, because close() raises GeneratorExit at the paused yield"
    )


# -- parse_requests --------------------------------------------------------------------------


def test_parse_requests_skips_blank_and_malformed_lines() -> None:
    got = list(log_pipeline.parse_requests(LOG.splitlines()))
    assert got == REQUESTS, "one Request per well-formed line, in order; the others are skipped"
    assert isinstance(got[0], tuple), "a Request is a NamedTuple"


@pytest.mark.parametrize(
    "line",
    [
        "2025-01-02T03:04:05Z GET /books 200",  # no duration
        "2025-01-02T03:04:05Z GET /books 200 35",  # no ms
        "2025-01-02T03:04:05Z GET books 200 35ms",  # path without a slash
        "2025-01-02T03:04:05Z GET /books 2000 35ms",  # not a status
        "2025-01-02T03:04:05Z GET /books 200 35ms trailing",  # more than the line format
        "2025-01-02T03:04:05Z get /books 200 35ms",  # method not upper-case
    ],
)
def test_lines_that_do_not_match_in_full_are_skipped(line: str) -> None:
    assert list(log_pipeline.parse_requests([line])) == [], (
        f"{line!r} does not match LINE_RE in full: use fullmatch, and skip it"
    )


def test_parse_requests_reads_no_more_lines_than_it_needs() -> None:
    source = guarded(["2025-01-02T03:04:05Z GET /a 200 1ms", "junk"], allowed=5)
    requests = log_pipeline.parse_requests(source)
    assert isinstance(requests, Iterator), "parse_requests returns an iterator (a generator)"
    got = list(itertools.islice(requests, 3))
    assert got == [Request("GET", "/a", 200, 1)] * 3, (
        "three requests need five lines here (two junk lines between them): a lazy stage "
        "pulls one line at a time and stops, so an endless source is fine"
    )


# -- batched ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "size", "expected"),
    [
        (range(7), 3, [(0, 1, 2), (3, 4, 5), (6,)]),
        (range(6), 3, [(0, 1, 2), (3, 4, 5)]),
        (range(3), 1, [(0,), (1,), (2,)]),
        (range(2), 5, [(0, 1)]),
        ([], 4, []),
    ],
)
def test_batched(items: range | list[int], size: int, expected: list[tuple[int, ...]]) -> None:
    got = list(log_pipeline.batched(iter(items), size))
    assert got == expected, f"batched({list(items)}, {size}): tuples of {size}, the last shorter"


def test_batched_is_lazy() -> None:
    batches = log_pipeline.batched(guarded(["a", "b"], allowed=4), 2)
    assert list(itertools.islice(batches, 2)) == [("a", "b"), ("a", "b")], (
        "two batches of two read four items, no more: batched must not list its input"
    )


@pytest.mark.parametrize("size", [0, -1])
def test_batched_checks_the_size_when_called(size: int) -> None:
    with pytest.raises(ValueError, match="size"):
        log_pipeline.batched([1, 2], size)  # no next(): the error comes at the call


# -- slowest and summarize -------------------------------------------------------------------


def test_slowest_first_and_ties_in_log_order() -> None:
    got = log_pipeline.slowest(iter(REQUESTS), 3)
    assert got == [REQUESTS[3], REQUESTS[1], REQUESTS[4]], (
        "slowest first; /orders and /books/7 both took 120 ms, so the earlier one comes first"
    )
    assert log_pipeline.slowest(iter(REQUESTS), 0) == []
    assert log_pipeline.slowest(iter(REQUESTS), 10) == sorted(
        REQUESTS, key=lambda r: r.duration_ms, reverse=True
    ), "n larger than the log gives every request"
    with pytest.raises(ValueError, match="n"):
        log_pipeline.slowest(iter(REQUESTS), -1)


def many_requests(count: int) -> Iterator[Request]:
    return (Request("GET", "/", 200, i % 997) for i in range(count))


def peak_memory_of(work: object) -> int:
    tracemalloc.start()
    try:
        work()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_slowest_keeps_only_n_requests_in_memory() -> None:
    peak = peak_memory_of(lambda: log_pipeline.slowest(many_requests(40_000), 3))
    assert peak < 500_000, (
        f"finding the 3 slowest of 40,000 requests peaked at {peak:,} bytes: keep only the n "
        "slowest seen so far (heapq.nlargest), not a sorted list of them all"
    )


def test_summarize_in_one_pass() -> None:
    summary = log_pipeline.summarize(iter(REQUESTS), slowest_n=2)
    assert summary == log_pipeline.LogSummary(
        requests=5,
        by_status_class={"2xx": 3, "4xx": 1, "5xx": 1},
        slowest=[REQUESTS[3], REQUESTS[1]],
    ), (
        "an iterator can be read once: count, group and find the slowest in the same loop "
        "(reading it a second time finds nothing)"
    )


def test_summarize_defaults_and_empty_input() -> None:
    assert log_pipeline.summarize(iter(REQUESTS)).slowest == [
        REQUESTS[3],
        REQUESTS[1],
        REQUESTS[4],
    ], "slowest_n defaults to 3"
    assert log_pipeline.summarize(iter([])) == log_pipeline.LogSummary(0, {}, [])
    assert log_pipeline.summarize(iter(REQUESTS), slowest_n=0).slowest == []
    with pytest.raises(ValueError, match="slowest_n"):
        log_pipeline.summarize(iter(REQUESTS), slowest_n=-1)


def test_summarize_keeps_only_the_slowest_in_memory() -> None:
    peak = peak_memory_of(lambda: log_pipeline.summarize(many_requests(40_000)))
    assert peak < 500_000, (
        f"summarizing 40,000 requests peaked at {peak:,} bytes: keep counters and the few "
        "slowest requests, never a list of every request"
    )


def test_the_whole_pipeline_over_a_file(tmp_path: Path) -> None:
    path = write_log(tmp_path / "access.log")
    summary = log_pipeline.summarize(log_pipeline.parse_requests(log_pipeline.read_lines(path)))
    assert summary.requests == 5
    assert summary.by_status_class == {"2xx": 3, "4xx": 1, "5xx": 1}
    assert [r.path for r in summary.slowest] == ["/checkout", "/orders", "/books/7"]
