"""The report's CSV is safe to open in a spreadsheet; its file names stay inside the report folder."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from gateway.pipeline.kinds import as_of_from_name
from gateway.pipeline.report import issues_csv, report_basename


@pytest.mark.parametrize("value", ["=1+2", "+1", "-3", "@SUM(1)", "\tX", "\rX", "\0X"])
def test_a_csv_cell_a_spreadsheet_would_treat_as_a_formula_is_prefixed_with_a_quote(value):
    issue = {"row": 2, "sku": value, "column": value, "value": value, "severity": "error",
             "code": "NOT_AN_INTEGER", "message": "quantity is not a whole number"}
    row = list(csv.reader(io.StringIO(issues_csv([issue]))))[1]
    assert row[1] == row[2] == row[3] == "'" + value
    assert row[0] == "2"


@pytest.mark.parametrize("value,written", [("5;=1+1", '"\'5;\'=1+1"'), ("=A1", '"\'=A1"'), ("x,@y", '"\'x,\'@y"')])
def test_a_dangerous_cell_is_quoted_and_marked_where_a_semicolon_or_comma_spreadsheet_starts_a_cell(value, written):
    issue = {"row": 2, "sku": value, "column": "SKU", "value": value, "severity": "error",
             "code": "DUPLICATE_SKU", "message": "m"}
    line = issues_csv([issue]).splitlines()[1]
    assert line == f"2,{written},SKU,{written},error,DUPLICATE_SKU,m"
    for delimiter in (",", ";"):
        cells = [c for row in csv.reader(io.StringIO(line), delimiter=delimiter) for c in row]
        assert not any(c.lstrip()[:1] in ("=", "+", "-", "@") for c in cells), (delimiter, cells)


def test_plain_cells_are_written_as_they_are():
    issue = {"row": None, "sku": None, "column": None, "value": "A1", "severity": "warning",
             "code": "HEADER_ONLY", "message": "the file has a header but no data rows"}
    assert list(csv.reader(io.StringIO(issues_csv([issue])))) == [
        ["row", "SKU", "column", "value", "severity", "code", "message"],
        ["", "", "", "A1", "warning", "HEADER_ONLY", "the file has a header but no data rows"]]


def test_the_csv_names_the_sku_of_every_row_and_starts_with_a_bom_when_asked():
    issue = {"row": 3, "sku": "00123", "column": "Qty", "value": "abc", "severity": "error",
             "code": "NOT_AN_INTEGER", "message": "m"}
    text = issues_csv([issue], bom=True)
    assert text.startswith("\ufeffrow,SKU,column,")
    assert list(csv.reader(io.StringIO(text[1:])))[1][:3] == ["3", "00123", "Qty"]
    assert not issues_csv([issue]).startswith("\ufeff")


@pytest.mark.parametrize("name", ["../../etc/passwd", "..\\..\\x.csv", "a/b/c.csv"])
def test_a_report_name_never_leaves_the_report_folder(name):
    base = report_basename(name, "F1")
    assert "/" not in base and "\\" not in base and base.endswith(".F1.report")


@pytest.mark.parametrize("name,expected", [
    ("stock_20260301T0200.csv", datetime(2026, 3, 1, 2, tzinfo=UTC)),
    ("stock_20260301T020030Z.csv", datetime(2026, 3, 1, 2, 0, 30, tzinfo=UTC)),
    ("stock.csv", None),
    ("order_99999999_1234.csv", None),
    # FTP sub-folders: the file's own name first, then its folders from the innermost out
    ("export_20260301T0200/stock.csv", datetime(2026, 3, 1, 2, tzinfo=UTC)),
    ("20260101T0000/20260301T0200/stock_20260302T0300.csv", datetime(2026, 3, 2, 3, tzinfo=UTC)),
    ("20260101T0000/20260301T0200/stock.csv", datetime(2026, 3, 1, 2, tzinfo=UTC)),
])
def test_a_timestamp_in_a_file_name_gives_its_as_of(name, expected):
    assert as_of_from_name(name, r"(?P<ts>\d{8}T?\d{4,6}Z?)") == expected
