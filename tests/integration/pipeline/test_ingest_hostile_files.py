"""Damaged and hostile files through `stockgate ingest` on a real database.

Workbooks built to exhaust memory are ingested in a child process (capped, its peak RSS measured): each is
refused with an issue naming what is too large, the child stays well under the bound, and nothing changes.
"""

from __future__ import annotations

import pytest
from hostile_files import (
    HEADER,
    SHEET_END,
    SHEET_START,
    ingest_in_child,
    lying_zip,
    one_far_cell,
    quantity_rows,
    repeated_shared_string,
    workbook,
)
from pipeline_helpers import WAREHOUSES_TOML, codes, ingest, seed, stock

MB = 1024 * 1024
PEAK_BOUND_MB = 400   # the CLI, SQLAlchemy and calamine take about 100 MB before any file is read


def test_a_csv_whose_last_row_lost_its_line_end_applies_every_row_but_that_one(sg, files):
    seed(sg, "A1 MF 1", "B1 MF 1")
    code, report = ingest(sg, files.csv("qu.csv", "SKU,MF\r\nA1,5\r\nB1,12"))
    assert (code, report["status"]) == (3, "applied_with_errors")
    assert [(i["row"], i["code"], i["value"]) for i in report["issues"]] == [(3, "TRUNCATED_ROW", "B1,12")]
    assert "rename" in report["issues"][0]["message"]
    assert stock(sg)["A1"] == {"MF": 5} and stock(sg)["B1"] == {"MF": 1}


def test_the_same_file_with_its_last_line_end_applies_every_row(sg, files):
    seed(sg, "A1 MF 1", "B1 MF 1")
    code, report = ingest(sg, files.csv("qu.csv", "SKU,MF\r\nA1,5\r\nB1,1200\r\n"))
    assert (code, report["issues"]) == (0, [])
    assert stock(sg)["B1"] == {"MF": 1200}


def test_a_full_snapshot_cut_in_its_last_row_neither_sets_nor_zeroes_that_sku(sg, files):
    seed(sg, "A1 EAST 4", "B1 EAST 9", "C1 EAST 2")
    code, report = ingest(sg, files.csv("s.csv", "SKU,Qty\nA1,5\nB1,1"), "--warehouse", "EAST", "--mode", "full")
    assert code == 3 and codes(report) == ["TRUNCATED_ROW", "ZEROED_BY_SNAPSHOT"]
    assert report["issues"][1]["sku"] == "C1"
    assert stock(sg)["A1"] == {"EAST": 5} and stock(sg)["B1"] == {"EAST": 9} and stock(sg)["C1"] == {"EAST": 0}


def test_a_utf8_row_in_a_windows_1252_file_creates_no_sku_even_with_create_unknown_skus(sg, files):
    data = (b"SKU,Title,MF\r\n" + "B1,Crème brûlée,3\r\n".encode("cp1252") + "MIX-café,Tasse,5\r\n".encode("utf-8")
            + b"C1,plain,2\r\n")
    code, report = ingest(sg, files.raw("mixed.csv", data), "--create-unknown-skus")
    assert code == 3 and codes(report) == ["ENCODING_FALLBACK", "MIXED_ENCODING"]
    mixed = report["issues"][1]
    assert (mixed["row"], mixed["column"], mixed["value"], mixed["severity"]) == (3, "SKU", "MIX-cafÃ©", "error")
    assert "'MIX-café' in UTF-8" in mixed["message"]
    levels = stock(sg)
    assert "MIX-cafÃ©" not in levels and "MIX-café" not in levels
    assert levels["B1"] == {"MF": 3} and levels["C1"] == {"MF": 2}


def wide_update(columns: int) -> bytes:
    header = ",".join(["SKU", *(f"W{i}" for i in range(columns))])
    return f"{header}\r\nA1,{','.join('1' for _ in range(columns))}\r\n".encode()


@pytest.mark.parametrize("columns", [1_000, 200_000])
def test_a_quantity_update_with_more_columns_than_the_limit_is_refused_at_once(sg, files, columns):
    seed(sg, "A1 MF 3")
    code, report = ingest(sg, files.raw("wide.csv", wide_update(columns)))
    assert (code, report["status"], codes(report)) == (4, "rejected", ["TOO_MANY_COLUMNS"])
    assert f"the header has {columns + 1:,} columns, more than the limit of 1,000" in report["issues"][0]["message"]
    assert stock(sg)["A1"] == {"MF": 3}


def test_the_column_limit_is_files_max_columns(sg, files, write_config):
    seed(sg, "A1 EAST 3")
    header = ",".join(["SKU", "Qty", *(f"note {i}" for i in range(1_500))])
    path = files.csv("stock.csv", f"{header}\nA1,7\n")
    assert codes(ingest(sg, path, "--warehouse", "EAST")[1]) == ["TOO_MANY_COLUMNS"]
    sg("stock", config=write_config(WAREHOUSES_TOML + "[files]\nmax_columns = 2000\n"))
    code, report = ingest(sg, path, "--warehouse", "EAST")
    assert (code, report["issues"]) == (0, [])
    assert stock(sg)["A1"] == {"EAST": 7}


def test_a_sheet_over_max_sheet_mb_is_refused_naming_the_sheet_and_the_limit(sg, files, write_config):
    seed(sg, "S0000002 MF 3")
    path = files.raw("big.xlsx", workbook([SHEET_START, HEADER, quantity_rows(2, 15_000), SHEET_END]))
    sg("stock", config=write_config(WAREHOUSES_TOML + "[files]\nmax_sheet_mb = 1\n"))
    code, report = ingest(sg, path, "--create-unknown-skus")
    assert (code, codes(report)) == (4, ["SHEET_TOO_LARGE"])
    assert report["issues"][0]["message"].startswith("sheet 'Stock' is too large to read: its XML would unpack to ")
    assert "over the limit of 1,048,576 (max_sheet_mb = 1)" in report["issues"][0]["message"]
    assert stock(sg) == {"S0000002": {"MF": 3}}
    sg("stock", config=write_config(WAREHOUSES_TOML + "[files]\nmax_sheet_mb = 2\n"))
    code, report = ingest(sg, path, "--create-unknown-skus")
    assert (code, report["rows"]["total"]) == (0, 15_000)
    assert stock(sg)["S0000002"] == {"MF": 2}


def child_config(write_config):
    return write_config(WAREHOUSES_TOML)


def test_a_zip_lying_about_its_sheet_size_is_refused_in_bounded_memory(sg, files, write_config):
    path = files.raw("lying.xlsx", lying_zip(real=768 * MB, declared=MB))
    assert path and len(open(path, "rb").read()) < 8 * MB
    run = ingest_in_child(child_config(write_config), path)
    assert (run.died, run.code) == (None, 4), run.stderr
    assert codes(run.report) == ["ZIP_BOMB"]
    assert "'xl/worksheets/sheet1.xml' unpacks to more than the 1,048,576 bytes it declares" in \
        run.report["issues"][0]["message"]
    assert run.peak_rss_mb < PEAK_BOUND_MB


@pytest.mark.parametrize("ref,code,words", [
    (b"XFD1048576", "TOO_MANY_COLUMNS", "sheet 'Stock' has 16,384 columns, more than the limit of 1,000"),
    (b"ALL1048576", "SHEET_TOO_LARGE", "its cells span 1,048,576 rows by 1,000 columns (1,048,576,000 cells)"),
])
def test_one_value_in_a_far_cell_is_refused_before_calamine_grids_the_sheet(sg, files, write_config, ref, code, words):
    path = files.raw("far.xlsx", one_far_cell(ref))
    run = ingest_in_child(child_config(write_config), path)
    assert (run.died, run.code) == (None, 4), run.stderr
    assert codes(run.report) == [code] and words in run.report["issues"][0]["message"]
    assert run.peak_rss_mb < PEAK_BOUND_MB


def test_cells_repeating_one_long_shared_string_are_refused_in_bounded_memory(sg, files, write_config):
    path = files.raw("strings.xlsx", repeated_shared_string(cells=20_000, length=30_000))
    run = ingest_in_child(child_config(write_config), path, "--create-unknown-skus")
    assert (run.died, run.code) == (None, 4), run.stderr
    assert codes(run.report) == ["SHEET_TOO_LARGE"]
    assert "its cells repeat shared strings of up to 600,380,031 bytes in all" in run.report["issues"][0]["message"]
    assert run.peak_rss_mb < PEAK_BOUND_MB
    assert stock(sg) == {}


def test_a_workbook_within_the_limits_is_applied_in_bounded_memory(sg, files, write_config):
    path = files.raw("ok.xlsx", workbook([SHEET_START, HEADER, quantity_rows(2, 50_000), SHEET_END]))
    run = ingest_in_child(child_config(write_config), path, "--create-unknown-skus")
    assert (run.died, run.code, run.report["rows"]["total"], run.report["rows"]["errors"]) == (None, 0, 50_000, 0), \
        run.stderr
    assert run.peak_rss_mb < PEAK_BOUND_MB
    assert stock(sg)["S0050001"] == {"MF": 50_001 % 100}
