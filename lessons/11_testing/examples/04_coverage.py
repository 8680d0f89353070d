"""04 · Coverage: what it measures, and what it does not.

    uv run python lessons/11_testing/examples/04_coverage.py

Three test suites for ``shipping.py``: one that runs every line but asserts nothing, one that
checks the happy path, one that checks the boundaries. For each, coverage.py measures the lines
and branches it runs, and four versions of ``shipping_cost`` with a planted bug measure what
it catches. Full coverage is not the same as catching bugs.

With pytest, the same measure is one option (pytest-cov; COVERAGE_FILE keeps its data file out
of the lab):
    COVERAGE_FILE=/tmp/lesson11.coverage uv run pytest exercises/11_testing/slug_test.py \\
        --cov=exercises/11_testing --cov-branch --cov-report=term-missing
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import sys
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import coverage

sys.path.insert(0, str(Path(__file__).parent))
import shipping  # the module under test sits beside this script

Cost = Callable[..., Decimal]


# -- versions of shipping_cost with one bug each --------------------------------------------


def truncates_kilograms(weight_kg: float, order_total: Decimal, express: bool = False) -> Decimal:
    if weight_kg <= 0:
        raise ValueError("a parcel weighs something")
    cost = shipping.BASE + (shipping.PER_KG * int(weight_kg - 2) if weight_kg > 2 else 0)
    if express:
        return cost * 2
    return Decimal("0.00") if order_total >= shipping.FREE_FROM else cost


def free_only_above_60(weight_kg: float, order_total: Decimal, express: bool = False) -> Decimal:
    if weight_kg <= 0:
        raise ValueError("a parcel weighs something")
    cost = shipping.BASE + (shipping.PER_KG * math.ceil(weight_kg - 2) if weight_kg > 2 else 0)
    if express:
        return cost * 2
    return Decimal("0.00") if order_total > shipping.FREE_FROM else cost


def express_free_too(weight_kg: float, order_total: Decimal, express: bool = False) -> Decimal:
    if weight_kg <= 0:
        raise ValueError("a parcel weighs something")
    cost = shipping.BASE + (shipping.PER_KG * math.ceil(weight_kg - 2) if weight_kg > 2 else 0)
    if order_total >= shipping.FREE_FROM:
        return Decimal("0.00")
    return cost * 2 if express else cost


def accepts_no_weight(weight_kg: float, order_total: Decimal, express: bool = False) -> Decimal:
    cost = shipping.BASE + (shipping.PER_KG * math.ceil(weight_kg - 2) if weight_kg > 2 else 0)
    if express:
        return cost * 2
    return Decimal("0.00") if order_total >= shipping.FREE_FROM else cost


BUGS: dict[str, Cost] = {
    "counts whole kilograms only": truncates_kilograms,
    "free only above 60.00": free_only_above_60,
    "express shipped free": express_free_too,
    "a weight of 0 accepted": accepts_no_weight,
}

# -- three suites: each takes the implementation to test -------------------------------------


def runs_everything(cost: Cost) -> None:
    """Every line and branch runs; nothing is checked."""
    cost(1, Decimal("10"))
    cost(3.5, Decimal("10"))
    cost(1, Decimal("10"), express=True)
    cost(1, Decimal("70"))
    with contextlib.suppress(ValueError):
        cost(0, Decimal("10"))


def happy_path(cost: Cost) -> None:
    assert cost(1, Decimal("10")) == Decimal("4.90")
    assert cost(3.5, Decimal("10")) == Decimal("7.90")


def boundaries(cost: Cost) -> None:
    assert cost(2, Decimal("10")) == Decimal("4.90")
    assert cost(2.5, Decimal("10")) == Decimal("6.40")  # a started kilogram counts
    assert cost(1, Decimal("59.99")) == Decimal("4.90")
    assert cost(1, Decimal("60.00")) == Decimal("0.00")  # free from 60.00 exactly
    assert cost(1, Decimal("70"), express=True) == Decimal("9.80")  # express is never free
    try:
        cost(0, Decimal("10"))
    except ValueError:
        pass
    else:
        raise AssertionError("a weight of 0 must be refused")


SUITES = {"runs everything": runs_everything, "happy path": happy_path, "boundaries": boundaries}


def measure(suite: Callable[[Cost], None]) -> tuple[float, float]:
    """Line and branch coverage (in %) of shipping_cost while the suite runs against it."""
    measured = coverage.Coverage(data_file=None, branch=True, include=[shipping.__file__])
    measured.start()
    try:
        suite(shipping.shipping_cost)
    finally:
        measured.stop()
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "coverage.json"
        measured.json_report(outfile=str(report))
        (found,) = json.loads(report.read_text())["files"].values()
    # the module's own lines ran at import, before the measure started: count the function's
    source, first = inspect.getsourcelines(shipping.shipping_cost)
    body = range(first + 1, first + len(source))

    def share(hit: list[Any], missed: list[Any], line: Callable[[Any], int]) -> float:
        hit = [x for x in hit if line(x) in body]
        missed = [x for x in missed if line(x) in body]
        return 100 * len(hit) / max(len(hit) + len(missed), 1)

    lines = share(found["executed_lines"], found["missing_lines"], lambda n: n)
    branches = share(found["executed_branches"], found["missing_branches"], lambda arc: arc[0])
    return lines, branches


def bugs_caught(suite: Callable[[Cost], None]) -> list[str]:
    caught = []
    for bug, version in BUGS.items():
        try:
            suite(version)
        except AssertionError:
            caught.append(bug)
    return caught


if __name__ == "__main__":
    print(f"{'suite':18} {'lines':>6} {'branches':>9}  bugs caught")
    for name, suite in SUITES.items():
        lines, branches = measure(suite)
        caught = bugs_caught(suite)
        print(f"{name:18} {lines:5.0f}% {branches:8.0f}%  {len(caught)} of {len(BUGS)}")
    print("'runs everything' covers every line and branch, and catches nothing.")
