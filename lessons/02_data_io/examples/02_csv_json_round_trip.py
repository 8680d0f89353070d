"""CSV and JSON: what each format keeps, what it loses, and how to get exact numbers back.

Run: uv run python lessons/02_data_io/examples/02_csv_json_round_trip.py
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

PRODUCTS = [
    {"sku": "A-1", "name": "Bolt, steel", "quantity": 120, "price": Decimal("0.10")},
    {"sku": "B-2", "name": 'Nut "M6"', "quantity": 0, "price": Decimal("0.05")},
    {"sku": "C-3", "name": "Café table", "quantity": 3, "price": Decimal("149.90")},
]


def main() -> None:
    # --- CSV: the csv module handles quoting; every value goes out (and comes back) as text.
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=["sku", "name", "quantity", "price"])
    writer.writeheader()
    writer.writerows(PRODUCTS)
    text = buffer.getvalue()
    print("CSV text (note the quoting of the comma and the double quotes):")
    print(text)

    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    print("read back:", rows[0])
    print("types after CSV:", {k: type(v).__name__ for k, v in rows[0].items()}, "- all str")

    # Coerce on the way in, with a schema: this is exercise 02.1.
    typed = [
        {**row, "quantity": int(row["quantity"]), "price": Decimal(row["price"])} for row in rows
    ]

    # --- JSON: keeps numbers, bools, null, lists and objects. Decimal is not a JSON type.
    try:
        json.dumps(typed)
    except TypeError as error:
        print("\njson.dumps(Decimal) fails:", error)

    # Policy 1: money as a string. Exact, explicit, and every language can read it.
    as_text = json.dumps(typed, default=str, ensure_ascii=False)
    print("with default=str:", as_text[:90], "...")
    back = json.loads(as_text)
    print("price comes back as:", repr(back[0]["price"]), "-> Decimal:", Decimal(back[0]["price"]))

    # Policy 2: a JSON number, read back as Decimal with parse_float (no float in between).
    as_number = '{"price": 0.10}'
    print("\nparse_float=Decimal:", json.loads(as_number, parse_float=Decimal))
    print("plain float:         ", json.loads(as_number), "- and 0.1 + 0.2 =", 0.1 + 0.2)

    # Round trip: what went in comes out, once types are restored.
    restored = [{**row, "price": Decimal(row["price"])} for row in back]
    print("\nround trip equal:", restored == typed)

    # JSON traps: NaN is not JSON, but json.dumps writes it unless told not to.
    print(
        "json.dumps(float('nan')) =", json.dumps(float("nan")), "- invalid JSON for other parsers"
    )
    try:
        json.dumps(float("nan"), allow_nan=False)
    except ValueError as error:
        print("allow_nan=False:", error)


if __name__ == "__main__":
    main()
