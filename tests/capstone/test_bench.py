"""``journey capstone bench`` runs end to end and prints every figure (not a timed test: the
figures depend on the machine, only their presence is checked)."""

from __future__ import annotations

import re
import shutil

import pytest

from capstone.bench import parse_wrk, percentile

GENERATORS = ["python", *(["wrk"] if shutil.which("wrk") else [])]
WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:8000/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms    1.00ms  30.00ms   90.00%
    Req/Sec     7.00k   500.00     8.00k    70.00%
  Latency Distribution
     50%  850.00us
     75%    2.00ms
     90%    3.00ms
     99%    1.20s
  14000 requests in 1.00s, 2.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:  14000.00
Transfer/sec:      2.00MB
"""


def test_wrk_output_is_read_with_its_units() -> None:
    result = parse_wrk(WRK_OUTPUT)
    assert result.requests == 14000
    assert result.seconds == pytest.approx(1.0)
    assert result.p50_ms == pytest.approx(0.85)
    assert result.p99_ms == pytest.approx(1200.0)
    assert result.errors == 5 + 3, "non-2xx answers and socket errors both count"


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 99) == 0.0


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.parametrize("generator", GENERATORS)
def test_bench_prints_every_figure(shop, generator: str) -> None:
    from capstone.bench import run_bench

    lines: list[str] = []  # the session's shop has the demo's admin, the bench's default one
    report = run_bench(shop.gateway, seconds=1.0, users=4, generator=generator, say=lines.append)
    text = "\n".join(lines)
    figures = r"\s+\d+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+x\s+\d+"
    assert re.search(rf"^load generator: {generator}", text, re.M), text
    assert re.search(r"^load average: before [\d.]+", text, re.M), text
    for name in ("hello world \\(same stack\\)", "cached product read", "order placement"):
        assert re.search(rf"^{name}{figures}$", text, re.M), f"no {name} line in:\n{text}"
    assert re.search(r"^order -> notification lag\s+[\d.]+\s+[\d.]+\s+\(\d+ of \d+", text, re.M)
    assert re.search(r"^targets .*: (met|MISSED);", text, re.M), text
    assert report.hello.requests > 0, "hello world answered"
    assert report.read.requests > 0, "the cached read answered"
    assert report.orders.requests > 0, "orders were placed"
    assert report.read.errors == 0, "every read succeeded"
    assert report.lag.orders > 0, "the orders it placed are listed"
    assert report.lag.notified == report.lag.orders, "every order got its notification"


@pytest.mark.postgres
@pytest.mark.redis
def test_the_shop_the_bench_starts_has_its_admin() -> None:
    """Without ``--gateway`` the bench starts its own shop: its admin must be able to create the
    products (registering never makes an admin, so the bench makes it as an operator would)."""
    from capstone.bench import prepare, started_shop
    from capstone.demo import ADMIN_EMAIL, ADMIN_PASSWORD

    lines: list[str] = []
    with started_shop(lines.append) as gateway:
        fixture = prepare(gateway, users=1, admin=(ADMIN_EMAIL, ADMIN_PASSWORD))
    assert fixture.products, "the admin created the products"
    assert any("the shop is ready" in line for line in lines), lines
