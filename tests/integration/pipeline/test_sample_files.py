"""Each file in sample_files/ ingests with the outcome sample_files/README.md promises."""

from __future__ import annotations

from pathlib import Path

from pipeline_helpers import codes, ingest, seed, stock

SAMPLES = Path(__file__).resolve().parents[3] / "sample_files"


def test_the_quantity_update_csv_sets_each_warehouse_and_leaves_empty_cells(sg):
    seed(sg, "A1 MF 1", "A2 EAST 9", "B-100 MF 1", "00123 WEST 6")
    code, report = ingest(sg, str(SAMPLES / "quantity_update.csv"), "--create-unknown-skus")
    assert code == 0, report
    levels = stock(sg)
    assert levels["A1"] == {"MF": 12, "EAST": 4}
    assert (levels["A2"].get("MF", 0), levels["A2"]["EAST"], levels["A2"]["WEST"]) == (0, 9, 7)
    assert (levels["00123"]["MF"], levels["00123"].get("EAST", 0), levels["00123"]["WEST"]) == (3, 0, 6)


def test_the_quantity_update_xlsx_gives_the_same_levels_as_the_csv(sg):
    seed(sg, "A1 MF 1", "A2 MF 1", "B-100 MF 1", "00123 MF 1")
    code, report = ingest(sg, str(SAMPLES / "quantity_update.xlsx"))
    assert code == 0, report
    assert stock(sg)["00123"]["MF"] == 3 and stock(sg)["A1"]["MF"] == 12


def test_the_erp_export_is_read_by_alias_as_windows_1252_in_full_mode(sg):
    seed(sg, "A1 WEST 1", "B-100 WEST 1", "00123 WEST 1", "Z-9 WEST 2")
    code, report = ingest(sg, str(SAMPLES / "erp_stock_export.csv"), "--warehouse", "WEST", "--mode", "full")
    assert code == 0, report
    assert codes(report) == ["ENCODING_FALLBACK", "ZEROED_BY_SNAPSHOT"] and report["issues"][1]["sku"] == "Z-9"
    assert [stock(sg)[s]["WEST"] for s in ("A1", "B-100", "00123", "Z-9")] == [40, 125, 0, 0]
    assert report["changes"] == {"increased": 2, "decreased": 0, "zeroed": 2}


def test_every_issue_sample_raises_each_row_level_code_it_names(sg):
    seed(sg, "A1 EAST 1", "A2 EAST 1", "B-100 EAST 1", "C-1 EAST 1", "C-2 EAST 1")   # 1.23E+11 unknown: SKU_LOOKS_MANGLED
    code, report = ingest(sg, str(SAMPLES / "every_issue.csv"), "--warehouse", "EAST")
    assert code == 3
    assert set(codes(report)) >= {"NOT_AN_INTEGER", "NEGATIVE_QUANTITY", "SIGNED_QUANTITY", "QUANTITY_TOO_LARGE",
                                  "EMPTY_QUANTITY", "INVALID_SKU", "SKU_LOOKS_MANGLED", "DUPLICATE_SKU",
                                  "DUPLICATE_SKU_AGREES", "UNKNOWN_SKU"}
    assert stock(sg)["A1"] == {"EAST": 5} and stock(sg)["C-2"] == {"EAST": 8}
