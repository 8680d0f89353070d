"""02.1 — CSV to JSON with type coercion and a report of bad rows."""

from __future__ import annotations

import json

import pytest

from journey.targets import load

csv_to_json = load(__file__, "csv_to_json")

SCHEMA = {"sku": str, "quantity": int, "price": float, "active": bool}


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        (" 42 ", int, 42),
        ("-3", int, -3),
        ("9.5", float, 9.5),
        ("1e3", float, 1000.0),
        ("Yes", bool, True),
        ("FALSE", bool, False),
        ("0", bool, False),
        ("  hello ", str, "hello"),
        ("", str, ""),
    ],
)
def test_coerce_converts_valid_cells(text, kind, expected):
    got = csv_to_json.coerce(text, kind)
    assert got == expected, f"coerce({text!r}, {kind.__name__}) should give {expected!r}"
    assert type(got) is kind, f"coerce({text!r}, {kind.__name__}) should return a {kind.__name__}"


@pytest.mark.parametrize(
    ("text", "kind"),
    [("4.0", int), ("ten", int), ("", int), ("nan", float), ("inf", float), ("maybe", bool)],
)
def test_coerce_rejects_invalid_cells(text, kind):
    with pytest.raises(ValueError, match=r".+"):
        csv_to_json.coerce(text, kind)


def test_convert_rows_coerces_types_and_passes_other_columns_through():
    lines = [
        "sku, quantity ,price,active,note\n",
        "A-1,3,9.5,yes,first\n",
        "B-2, 10 ,0.25,no, spaced \n",
    ]
    result = csv_to_json.convert_rows(lines, SCHEMA)
    assert result.records == [
        {"sku": "A-1", "quantity": 3, "price": 9.5, "active": True, "note": "first"},
        {"sku": "B-2", "quantity": 10, "price": 0.25, "active": False, "note": "spaced"},
    ], (
        "each column is coerced by the schema; columns outside it stay (stripped) strings; "
        "header names are stripped too"
    )
    assert result.bad_rows == [], "valid rows produce no bad-row report"


def test_bad_rows_are_reported_with_line_numbers_and_every_reason():
    lines = [
        "sku,quantity,price,active\n",  # line 1
        "A-1,3,9.5,yes\n",  # line 2: good
        "B-2,ten,9.5,yes\n",  # line 3: bad quantity
        "C-3,1,nan,maybe\n",  # line 4: two bad cells
        "D-4,2\n",  # line 5: too few fields
        "E-5,5,1.0,no\n",  # line 6: good
    ]
    result = csv_to_json.convert_rows(lines, SCHEMA)
    assert [r["sku"] for r in result.records] == ["A-1", "E-5"], "bad rows are left out"
    bad = {row.line: row.reasons for row in result.bad_rows}
    assert sorted(bad) == [3, 4, 5], "line numbers count the header as line 1"
    assert len(bad[3]) == 1, "one bad cell gives one reason"
    assert bad[3][0].startswith("quantity"), "a reason starts with the column name"
    assert "ten" in bad[3][0], "a reason shows the value that did not convert"
    assert [reason.split(":")[0] for reason in bad[4]] == ["price", "active"], (
        "every failing cell of a row is reported, in column order"
    )
    assert bad[5] == ("expected 4 fields, got 2",), "a short row reports its field count"


def test_blank_lines_are_skipped_not_reported():
    lines = ["sku,quantity\n", "A-1,1\n", "\n", "B-2,2\n"]
    result = csv_to_json.convert_rows(lines, {"sku": str, "quantity": int})
    assert [r["quantity"] for r in result.records] == [1, 2]
    assert result.bad_rows == [], "a blank line is neither a record nor a bad row"


def test_quoted_fields_keep_their_commas():
    lines = ["sku,name,quantity\n", 'A-1,"Bolt, steel",4\n']
    result = csv_to_json.convert_rows(lines, {"sku": str, "quantity": int})
    assert result.records == [{"sku": "A-1", "name": "Bolt, steel", "quantity": 4}], (
        "use the csv module, not str.split(','): a quoted comma is part of the value"
    )


def test_line_numbers_are_file_lines_even_after_a_multi_line_cell():
    lines = [
        "sku,note,quantity\n",  # line 1
        'A-1,"two\n',  # lines 2-3: one record, its quoted note spans two lines
        'lines",1\n',
        "B-2,plain,ten\n",  # line 4: bad quantity
    ]
    result = csv_to_json.convert_rows(lines, {"sku": str, "quantity": int})
    assert result.records == [{"sku": "A-1", "note": "two\nlines", "quantity": 1}]
    assert [row.line for row in result.bad_rows] == [4], (
        "the bad row is on line 4 of the file: use reader.line_num, not a count of rows"
    )


def test_missing_schema_column_in_header_is_an_error():
    with pytest.raises(ValueError, match="price"):
        csv_to_json.convert_rows(["sku,quantity\n", "A-1,1\n"], SCHEMA)


def test_empty_input_is_an_error():
    with pytest.raises(ValueError, match="header"):
        csv_to_json.convert_rows([], SCHEMA)


def test_a_quoted_line_break_is_kept_as_written(tmp_path):
    source = tmp_path / "notes.csv"
    source.write_bytes(b'sku,note,quantity\r\nA-1,"first line\r\nsecond line",2\r\n')
    target = tmp_path / "notes.json"
    assert csv_to_json.csv_file_to_json(source, target, {"sku": str, "quantity": int}) == []
    records = json.loads(target.read_text(encoding="utf-8"))
    assert records[0]["note"] == "first line\r\nsecond line", (
        "a line break inside quotes is part of the value, byte for byte: open the CSV with "
        "newline='' so Python does not turn its \\r\\n into \\n before the csv module sees it"
    )


def test_csv_file_to_json_writes_a_json_array(tmp_path):
    source = tmp_path / "stock.csv"
    source.write_text(
        "sku,quantity,price,active\r\nA-1,3,9.5,yes\r\nÜ-2,x,1.0,no\r\nB-3,0,0,false\r\n"
        "Ö-4,1,2.5,yes\r\n",
        encoding="utf-8",
    )
    target = tmp_path / "stock.json"
    bad = csv_to_json.csv_file_to_json(source, target, SCHEMA)
    raw = target.read_text(encoding="utf-8")
    data = json.loads(raw)
    assert data == [
        {"sku": "A-1", "quantity": 3, "price": 9.5, "active": True},
        {"sku": "B-3", "quantity": 0, "price": 0.0, "active": False},
        {"sku": "Ö-4", "quantity": 1, "price": 2.5, "active": True},
    ], "the JSON file holds the good records, typed"
    assert '"Ö-4"' in raw, "non-ASCII is kept as is (ensure_ascii=False), not written as \\u00d6"
    assert [(row.line, row.reasons[0].split(":")[0]) for row in bad] == [(3, "quantity")]
