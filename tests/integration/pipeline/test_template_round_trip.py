"""The Quantity Update template round trip: titles stored from files and shown in the template, a CSV
that opens safely in a spreadsheet (UTF-8 BOM, no live formula), and a template sent back unchanged that
changes nothing, as CSV and as XLSX, for SKUs a spreadsheet likes to damage."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from pipeline_helpers import ingest, seed, stock
from sqlalchemy import select

from gateway.db import schema

AWKWARD_SKUS = ["00123", "=SUM(1+1)", "Ünï", "1234567890123456789", "2024-01-02"]


def _titles(db) -> dict[str, str | None]:
    with db.read() as conn:
        return dict(conn.execute(select(schema.items.c.sku, schema.items.c.title)).all())


AWKWARD_TITLES = {"00123": "Zero hat", "=SUM(1+1)": '=HYPERLINK("x")', "Ünï": "Ünï scarf",
                  "1234567890123456789": "Long, with comma", "2024-01-02": "+1 dated"}


@pytest.fixture
def awkward(sg, files, db):
    for n, sku in enumerate(AWKWARD_SKUS, 1):
        seed(sg, f"{sku} MF {n}")
        assert sg("set", sku, "EAST", str(10 * n)).code == 0
    rows = "".join(f'"{sku}","{title.replace(chr(34), 2 * chr(34))}",\n' for sku, title in AWKWARD_TITLES.items())
    code, report = ingest(sg, files.csv("titles.csv", "SKU,Title,MF\n" + rows))
    assert code == 0 and _titles(db) == AWKWARD_TITLES, report
    return sg


def _quantities(view: dict) -> dict:
    """Each SKU's nonzero quantities per warehouse: a missing level and a level of 0 hold the same stock."""
    return {sku: {wh: qty for wh, qty in levels.items() if qty} for sku, levels in view.items()}


def test_the_csv_template_starts_with_a_utf8_bom_and_holds_no_live_formula(awkward, tmp_path):
    out = tmp_path / "template.csv"
    assert awkward("template", "-o", str(out)).code == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["SKU", "Title", "MF", "EAST", "WEST"]
    cells = [cell for row in rows for cell in row]
    # a spreadsheet runs a cell beginning with = + - @: every such cell is written as text ('...)
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]
    assert "'=SUM(1+1)" in cells and "Ünï" in cells and "00123" in cells
    assert ["00123", "Zero hat", "1", "10", "0"] in rows and "'+1 dated" in cells


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_template_sent_back_unchanged_applies_with_every_row_unchanged(awkward, tmp_path, fmt, db):
    out = tmp_path / f"template.{fmt}"
    assert awkward("template", "--format", fmt, "-o", str(out)).code == 0
    before = stock(awkward)

    code, report = ingest(awkward, str(out))

    assert (code, report["status"]) == (0, "applied"), report["issues"]
    assert report["rows"] == {"total": 5, "applied": 0, "unchanged": 5, "errors": 0, "warnings": 0}
    assert report["issues"] == []
    # the template shows 0 where a SKU has no level; sent back, that 0 is a level of 0 (issue 10 point 5)
    assert _quantities(stock(awkward)) == _quantities(before) and set(before) == set(AWKWARD_SKUS)
    assert _titles(db) == AWKWARD_TITLES


def test_the_xlsx_template_resaved_by_openpyxl_still_changes_nothing(awkward, tmp_path, db):
    out = tmp_path / "template.xlsx"
    assert awkward("template", "--format", "xlsx", "-o", str(out)).code == 0
    workbook = load_workbook(out)   # what a spreadsheet does: open, save
    sheet = workbook.active
    assert [c for row in sheet.iter_rows() for c in row if c.data_type == "f"] == []
    resaved = tmp_path / "resaved.xlsx"
    workbook.save(resaved)

    code, report = ingest(awkward, str(resaved))

    assert code == 0 and report["rows"]["unchanged"] == 5 and report["issues"] == []
    assert _titles(db) == AWKWARD_TITLES


def test_a_quantity_update_title_column_sets_and_updates_item_titles_shown_in_the_template(sg, files, db, tmp_path):
    seed(sg, "A1 MF 1", "B2 MF 1")
    code, _ = ingest(sg, files.csv("qu.csv", "SKU,Title,MF\nA1,Blue hat,1\nB2,,2\n"))
    assert code == 0 and _titles(db) == {"A1": "Blue hat", "B2": None}

    ingest(sg, files.csv("qu2.csv", "SKU,Name,MF\nA1,Red hat,1\nB2,Scarf,2\n"))   # a `Name` column: an alias
    assert _titles(db) == {"A1": "Red hat", "B2": "Scarf"}

    out = tmp_path / "template.csv"
    assert sg("template", "-o", str(out)).code == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[1:] == [["A1", "Red hat", "1", "0", "0"], ["B2", "Scarf", "2", "0", "0"]]


def test_a_stock_file_title_only_fills_a_missing_title(sg, files, db):
    seed(sg, "A1 EAST 1")
    ingest(sg, files.csv("qu.csv", "SKU,Title,MF\nA1,Blue hat,1\n"))

    code, _ = ingest(sg, files.csv("east.csv", "SKU,Qty,Product Name\nA1,4,Old name\nN1,2,New thing\n"),
                     "--warehouse", "EAST", "--create-unknown-skus")

    assert code == 0 and _titles(db) == {"A1": "Blue hat", "N1": "New thing"}
    assert stock(sg)["N1"]["EAST"] == 2


def test_a_rejected_or_dry_run_file_stores_no_title(sg, files, db):
    seed(sg, "A1 MF 1")
    code, _ = ingest(sg, files.csv("bad.csv", "SKU,Title,NOPE\nA1,Blue hat,1\n"))
    assert code == 4
    ingest(sg, files.csv("dry.csv", "SKU,Title,MF\nA1,Blue hat,1\n"), "--dry-run")
    assert _titles(db) == {"A1": None}


def test_a_title_that_looks_like_a_formula_is_stored_as_it_was_and_kept_through_the_template(sg, files, db,
                                                                                           tmp_path):
    seed(sg, "A1 MF 1")
    ingest(sg, files.csv("qu.csv", 'SKU,Title,MF\nA1,"=HYPERLINK(""x"")",1\n'))
    assert _titles(db) == {"A1": '=HYPERLINK("x")'}
    out = tmp_path / "template.csv"
    sg("template", "-o", str(out))
    code, report = ingest(sg, str(out))
    assert code == 0 and report["rows"]["unchanged"] == 1 and _titles(db) == {"A1": '=HYPERLINK("x")'}



def test_a_row_with_an_error_stores_no_title(sg, files, db):
    seed(sg, "A1 MF 1", "B2 MF 1", "C3 MF 1", "D4 EAST 1")
    text = "SKU,Title,MF\nA1,Bad row,abc\nB2,Good row,2\nC3,First,3\nC3,Second,4\n"
    code, report = ingest(sg, files.csv("qu.csv", text))
    assert code == 3 and _titles(db) == {"A1": None, "B2": "Good row", "C3": None, "D4": None}
    code, report = ingest(sg, files.csv("east.csv", "SKU,Qty,Title\nD4,+99999999999,Too many\n"),
                          "--warehouse", "EAST", "--mode", "delta")
    assert code == 4 and _titles(db)["D4"] is None
