"""Files of thousands of rows through `stockgate ingest`: the bulk paths give the same answers as small files.

Long files are read in chunks, compared with the catalog in bulk (a TEMP table on SQLite, whole-warehouse
reads under FOR UPDATE on PostgreSQL) and applied in batches; bad rows may fall anywhere in them.
"""

from __future__ import annotations

import pytest
from pipeline_helpers import ingest, stock
from sqlalchemy import func, select

from gateway.db import schema

ROWS = 3000


def _levels(n: int) -> tuple[int, int, int]:
    return n % 50, (n * 7) % 50, (n * 13) % 50


@pytest.fixture
def catalog(sg, files):
    """ROWS SKUs (L00001...) with a level in MF, EAST and WEST, created by a Quantity Update."""
    lines = ["SKU,Title,MF,EAST,WEST"] + [f"L{n:05d},Item {n},{','.join(map(str, _levels(n)))}"
                                         for n in range(1, ROWS + 1)]
    code, report = ingest(sg, files.csv("catalog.csv", "\n".join(lines) + "\n"), "--create-unknown-skus")
    assert code == 0, report["issues"][:3]
    return sg


def _ledger_rows(db, file_id: str) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(schema.ledger)
                            .where(schema.ledger.c.file_id == file_id)).scalar()


def test_a_long_quantity_update_applies_every_changed_cell_and_reports_each_bad_row(catalog, files, db):
    bad = {256: "abc", 257: "-3", 1025: "12.5"}              # data row index -> MF cell
    lines = ["SKU,Title,MF,EAST,WEST"]
    changed = 0
    for n in range(1, ROWS + 1):
        mf, east, west = _levels(n)
        if n % 10 == 0:
            mf, changed = mf + 1, changed + 1
        if n % 15 == 0:
            west = ""                          # an empty cell leaves the level as it is
        lines.append(f"L{n:05d},Item {n},{bad.get(n, mf)},{east},{west}")
    lines.insert(700, "L00003,Item 3,3,21,39")            # agrees with row 4: a warning, applied once
    lines.insert(1500, "NEW-SKU,New,5,5,5")
    lines.insert(2999, "")                                 # a blank row keeps its number
    code, report = ingest(catalog, files.csv("update.csv", "\n".join(lines) + "\n"))
    assert code == 3, report
    issues = [(i["row"], i["code"], i["value"]) for i in report["issues"]]
    assert issues == [(257, "NOT_AN_INTEGER", "abc"), (258, "NEGATIVE_QUANTITY", "-3"),
                      (701, "DUPLICATE_SKU_AGREES", "L00003"), (1027, "NOT_AN_INTEGER", "12.5"),
                      (1501, "UNKNOWN_SKU", "NEW-SKU")]
    assert report["rows"] == {"total": ROWS + 2, "applied": ROWS // 10, "unchanged": ROWS - 3 - ROWS // 10,
                              "errors": 4, "warnings": 1}
    assert report["changes"] == {"increased": changed, "decreased": 0, "zeroed": 0}
    levels = stock(catalog)
    assert levels["L00010"] == {"MF": 11, "EAST": 20, "WEST": 30}
    assert levels["L00015"] == {"MF": 15, "EAST": 5, "WEST": 45}
    assert levels["L00256"]["MF"] == _levels(256)[0] and levels["L03000"]["MF"] == 1
    assert "NEW-SKU" not in levels
    assert _ledger_rows(db, report["file_id"]) == changed


def test_a_long_full_snapshot_zeroes_only_the_absent_skus_whose_rows_did_not_fail(catalog, files, db):
    lines = ["SKU,Qty"]
    for n in range(1, ROWS + 1):
        if n % 100 == 7:
            continue                                       # absent: zeroed unless already 0
        lines.append(f"L{n:05d},{'x' if n == 2001 else _levels(n)[2] + (n == 1)}")
    lines.append("L02107,abc")                              # absent from the good rows, but its row failed
    code, report = ingest(catalog, files.csv("west.csv", "\n".join(lines) + "\n"), "--warehouse", "WEST",
                          "--mode", "full")
    assert code == 3, report
    assert [(i["row"], i["code"]) for i in report["issues"] if i["row"]] == [(1982, "NOT_AN_INTEGER"),
                                                                               (2972, "NOT_AN_INTEGER")]
    zeroed = [i["sku"] for i in report["issues"] if i["code"] == "ZEROED_BY_SNAPSHOT"]
    assert len(zeroed) == report["changes"]["zeroed"] and zeroed == sorted(zeroed) and "L02107" not in zeroed
    levels = stock(catalog)
    absent = [n for n in range(7, ROWS + 1, 100) if n != 2107]
    assert all(levels[f"L{n:05d}"]["WEST"] == 0 for n in absent)
    assert levels["L02107"]["WEST"] == _levels(2107)[2] > 0
    assert levels["L02001"]["WEST"] == _levels(2001)[2] and levels["L00001"]["WEST"] == 14
    zeroed = sum(1 for n in absent if _levels(n)[2])
    assert zeroed > 20
    assert report["changes"] == {"increased": 1, "decreased": 0, "zeroed": zeroed}
    assert _ledger_rows(db, report["file_id"]) == 1 + zeroed


def test_a_long_delta_file_adds_to_every_level_it_names(catalog, files):
    lines = ["SKU,Qty"] + [f"L{n:05d},{'+2' if n % 2 else '-100'}" for n in range(1, ROWS + 1)]
    code, report = ingest(catalog, files.csv("east.csv", "\n".join(lines) + "\n"), "--warehouse", "EAST",
                          "--mode", "delta")
    assert code == 0, report
    levels = stock(catalog)
    assert levels["L00001"]["EAST"] == 9 and levels["L00002"]["EAST"] == 0
    clamped = sum(1 for n in range(2, ROWS + 1, 2) if _levels(n)[1])
    assert [i["code"] for i in report["issues"]] == ["CLAMPED_AT_ZERO"] * (ROWS // 2)
    assert report["changes"] == {"increased": ROWS // 2, "decreased": 0, "zeroed": clamped}


def test_a_dry_run_of_a_long_file_with_new_skus_counts_them_and_changes_nothing(catalog, files):
    lines = ["SKU,MF"] + [f"L{n:05d},{_levels(n)[0] + 1}" for n in range(1, ROWS + 1)]
    lines += [f"N{n:05d},4" for n in range(1, 2501)]
    code, report = ingest(catalog, files.csv("update.csv", "\n".join(lines) + "\n"), "--dry-run",
                          "--create-unknown-skus")
    assert code == 0, report
    assert report["changes"]["increased"] == ROWS + 2500
    levels = stock(catalog)
    assert levels["L00001"]["MF"] == 1 and "N00001" not in levels
