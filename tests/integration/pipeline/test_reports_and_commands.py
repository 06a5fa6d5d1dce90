"""Reports (database, JSON and CSV files, text) and the history, report and template commands."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from openpyxl import load_workbook
from pipeline_helpers import ingest, seed, stock

from gateway.pipeline.report import REPORT_KEYS


def test_every_file_gets_json_and_csv_report_files_matching_the_stored_report(sg, files, data_dir):
    seed(sg, "A1 MF 1")
    _code, report = ingest(sg, files.csv("east stock.csv", "SKU,MF\nA1,abc\nA1,2\n"))
    folder = data_dir / "reports"
    json_path = folder / f"east stock.csv.{report['file_id']}.report.json"
    assert list(json.loads(json_path.read_text(encoding="utf-8"))) == list(REPORT_KEYS)
    assert json.loads(json_path.read_text(encoding="utf-8")) == sg("report", report["file_id"], "--format",
                                                                  "json").json()
    data = (folder / f"east stock.csv.{report['file_id']}.report.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfrow,SKU,")   # a UTF-8 BOM: a spreadsheet reads the SKUs as UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["row", "SKU", "column", "value", "severity", "code", "message"]
    assert {(r[1], r[5]) for r in rows[1:]} == {("A1", "DUPLICATE_SKU"), ("A1", "NOT_AN_INTEGER")}


def test_report_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_prefixed(sg, files):
    seed(sg, "A1 MF 1", "A2 MF 1", "A3 MF 1")
    text = 'SKU,MF\nA1,=1+2\nA2,-3\nA3,+1\n"=HYPERLINK(""http://x"")",4\n@SUM(1),5\n'
    _code, report = ingest(sg, files.csv("evil.csv", text))
    result = sg("report", report["file_id"], "--format", "csv")
    values = [row[3] for row in csv.reader(io.StringIO(result.out))][1:]
    assert sorted(values) == sorted(["'=1+2", "'-3", "'+1", "'=HYPERLINK(\"http://x\")", "'@SUM(1)"])
    assert report["issues"][0]["value"] == "=1+2"   # the JSON keeps the value as it was


def test_report_text_says_status_counts_and_issues(sg, files):
    seed(sg, "A1 MF 1")
    _code, report = ingest(sg, files.csv("qu.csv", "SKU,MF\nA1,abc\n"))
    text = sg("report", report["file_id"]).out
    assert "status: rejected" in text
    assert "row 2, SKU A1, column MF: error NOT_AN_INTEGER: quantity 'abc' is not a whole number" in text


def test_ingest_without_json_prints_the_readable_report(sg, files):
    seed(sg, "A1 MF 1")
    result = sg("ingest", files.csv("qu.csv", "SKU,MF\nA1,4\n"))
    assert result.code == 0
    assert "status: applied" in result.out and "1 increased" in result.out


def test_history_lists_files_newest_first_and_filters_by_status_and_warehouse(sg, files):
    seed(sg, "A1 MF 1", "A1 EAST 1")
    first = ingest(sg, files.csv("one.csv", "SKU,MF\nA1,4\n"))[1]["file_id"]
    second = ingest(sg, files.csv("two.csv", "SKU,Qty\nA1,x\n"), "--warehouse", "EAST")[1]["file_id"]
    listed = sg("history", "--json").json()["files"]
    assert [f["file_id"] for f in listed] == [second, first]
    assert [f["file_id"] for f in sg("history", "--status", "rejected", "--json").json()["files"]] == [second]
    assert [f["file_id"] for f in sg("history", "--warehouse", "EAST", "--json").json()["files"]] == [second]
    assert "two.csv" in sg("history").out


def test_report_of_an_unknown_file_is_a_one_line_error(sg):
    result = sg("report", "nope")
    assert result.code == 2 and "no file 'nope'" in result.err


def test_ingest_of_a_missing_path_or_unknown_warehouse_is_a_usage_error(sg, files):
    assert sg("ingest", "/nonexistent.csv").code == 2
    result = sg("ingest", files.csv("x.csv", "SKU,Qty\nA1,1\n"), "--warehouse", "NOPE")
    assert result.code == 2 and "NOPE" in result.err


def test_the_csv_template_lists_every_sku_with_current_quantities_and_ingests_back(sg, tmp_path):
    seed(sg, "00123 MF 3", "00123 EAST 4", "B-1 WEST 2")
    out = tmp_path / "template.csv"
    assert sg("template", "-o", str(out)).code == 0
    assert out.read_text(encoding="utf-8-sig").splitlines() == ["SKU,Title,MF,EAST,WEST", "00123,,3,4,0",
                                                                "B-1,,0,0,2"]
    code, report = ingest(sg, str(out))
    assert (code, report["rows"]["unchanged"]) == (0, 2)


def test_a_csv_template_title_that_looks_like_a_formula_is_defused(sg, tmp_path, db):
    from sqlalchemy import update

    from gateway.db import schema

    seed(sg, "A1 MF 3")
    with db.write() as conn:
        conn.execute(update(schema.items).values(title='=HYPERLINK("http://evil","click")'))
    out = tmp_path / "template.csv"
    assert sg("template", "-o", str(out)).code == 0
    assert out.read_text(encoding="utf-8-sig").splitlines()[1] == 'A1,"\'=HYPERLINK(""http://evil"",""click"")",3,0,0'
    code, report = ingest(sg, str(out))
    assert (code, report["rows"]["unchanged"]) == (0, 1)


def test_the_xlsx_template_keeps_leading_zeros_and_never_writes_a_formula(sg, tmp_path, db):
    seed(sg, "00123 MF 3", "=cmd MF 1")
    out = tmp_path / "template.xlsx"
    assert sg("template", "--format", "xlsx", "-o", str(out)).code == 0
    sheet = load_workbook(out).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["SKU", "Title", "MF", "EAST", "WEST"]
    assert ["00123", None, 3, 0, 0] in [[v if v != "" else None for v in r] for r in rows]
    formula_cells = [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert formula_cells == [] and sheet["A2"].number_format == "@"
    code, report = ingest(sg, str(out))
    assert code == 0 and stock(sg)["00123"]["MF"] == 3


def test_the_template_xlsx_sku_cells_are_text(sg, tmp_path):
    seed(sg, "00123 MF 3")
    out = tmp_path / "t.xlsx"
    sg("template", "-o", str(out))
    assert Path(out).exists() and load_workbook(out).active["A2"].data_type == "s"
