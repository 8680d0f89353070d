"""json versus orjson: speed, bytes versus str, and the types each one understands.

Run: uv run python lessons/02_data_io/examples/06_json_vs_orjson.py
"""

from __future__ import annotations

import json
import timeit
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import orjson


@dataclass
class Order:
    order_id: uuid.UUID
    placed_at: datetime
    total: Decimal


def payload() -> list[dict[str, object]]:
    """About a thousand order-like records: realistic keys, strings, numbers and nesting."""
    return [
        {
            "order_id": str(uuid.UUID(int=i)),
            "customer": {"id": f"c-{i % 97}", "name": f"Customer {i % 97}", "vip": i % 10 == 0},
            "items": [{"sku": f"SKU-{j}", "quantity": j + 1, "price": 9.99 + j} for j in range(3)],
            "placed_at": "2025-01-02T03:04:05.000000Z",
            "tags": ["web", "eu"],
        }
        for i in range(1000)
    ]


def best_of(statement, number: int = 20) -> float:
    return min(timeit.repeat(statement, number=number, repeat=3)) / number


def main() -> None:
    data = payload()
    text = json.dumps(data)
    raw = orjson.dumps(data)
    print(f"payload: {len(data)} records, {len(raw):,} bytes of JSON")
    print("json.dumps returns", type(text).__name__, "- orjson.dumps returns", type(raw).__name__)
    print("same data after loading:", json.loads(text) == orjson.loads(raw))

    timings = {
        "json.dumps": best_of(lambda: json.dumps(data)),
        "orjson.dumps": best_of(lambda: orjson.dumps(data)),
        "json.loads": best_of(lambda: json.loads(text)),
        "orjson.loads": best_of(lambda: orjson.loads(raw)),
    }
    for name, seconds in timings.items():
        print(f"  {name:13} {seconds * 1000:7.2f} ms")
    print(
        f"orjson is {timings['json.dumps'] / timings['orjson.dumps']:.0f}x faster to dump and "
        f"{timings['json.loads'] / timings['orjson.loads']:.0f}x faster to load, here"
    )

    # Types: orjson writes dataclasses, UUIDs and datetimes itself; Decimal needs a policy.
    order = Order(uuid.UUID(int=7), datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), Decimal("19.80"))
    print("\norjson + default=str:", orjson.dumps(order, default=str))
    try:
        json.dumps(order)
    except TypeError as error:
        print("json.dumps(dataclass):", error)
    print("sorted keys, indented:")
    print(
        orjson.dumps(
            {"b": 1, "a": [1, 2]}, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2
        ).decode()
    )


if __name__ == "__main__":
    main()
