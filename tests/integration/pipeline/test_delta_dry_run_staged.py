"""A dry run of a `delta` stock file is staged as processing stages it: its repeats added up in the database,
its clamps and too-large sums found there, so it reports exactly what applying the file then does (the same
issues listed and counted, the same levels before and after, in the order the ledger is written), changes
nothing, and takes memory that does not grow with the file."""

from __future__ import annotations

import json
import tracemalloc

import pytest
from pipeline_helpers import big_delta_file, ingest, stock
from test_full_snapshot_and_dry_run_staged import _ledger, _snapshot

ROWS = 12_000    # SKUs C00001..C12000, each at 10 in MF; the file's rows 2..12001 move each once
REPEATS = 5_000  # then C00001..C05000 again, +1 each: 5,000 DUPLICATE_SKU_SUMMED, two chunks and more apart
CHUNK = 1_000


def _seed(sg, files) -> None:
    lines = ["SKU,MF"] + [f"C{i:05d},10" for i in range(1, ROWS + 1)]
    code, report = ingest(sg, files.csv("seed.csv", "\n".join(lines) + "\n"), "--create-unknown-skus")
    assert (code, report["rows"]["applied"]) == (0, ROWS), report["issues"][:3]


def _delta_file(files) -> str:
    """Every even SKU -50 (clamps 10 at 0: 6,000 CLAMPED_AT_ZERO), every odd one +3, then 5,000 repeats: over
    the 10,000 issues a report lists."""
    lines = ["SKU,Qty"] + [f"C{i:05d},{'-50' if i % 2 == 0 else '+3'}" for i in range(1, ROWS + 1)]
    lines[5] = "C00005,007"              # row 6: as written, leading zeros (its repeat quotes "+1")
    lines[7] = "ZZ-NEW,+5"               # row 8: a SKU the catalog does not have; its repeat below adds +2
    lines[9] = "ZZ-NEG,-3"               # row 10: a new SKU moved below 0
    lines[31] = "C00031,abc"             # row 32 fails: its repeat is C00031's first kept row
    lines[41] = "C00041,+1999999990"     # row 42: with its repeat (+1) 10 + 1,999,999,991 passes the limit
    lines += [f"C{i:05d},+1" for i in range(1, REPEATS + 1)]
    lines += ["ZZ-NEW,+2", "C11999,-1"]  # rows 17002, 17003: repeats far apart
    return files.csv("movements.csv", "\n".join(lines) + "\n")


def _issues(report: dict) -> list[tuple]:
    return [(i["row"], i["sku"], i["code"], i["value"], i["message"]) for i in report["issues"]]


@pytest.mark.parametrize("create", [False, True], ids=["unknown-refused", "unknown-created"])
def test_a_dry_run_of_a_large_delta_file_reports_exactly_what_applying_it_then_does(
        sg, files, db, monkeypatch, create):
    monkeypatch.setattr("gateway.pipeline.staging.STAGE_CHUNK_ROWS", CHUNK)
    monkeypatch.setattr("gateway.stock.levels.FILE_CHUNK_ROWS", CHUNK)
    _seed(sg, files)
    path = _delta_file(files)
    args = ["--warehouse", "MF", "--mode", "delta", *(["--create-unknown-skus"] if create else [])]
    before = _snapshot(db)

    dry = sg("ingest", path, *args, "--dry-run", "--changes", "--json")
    assert dry.out, dry
    preview = json.loads(dry.out)

    assert _snapshot(db) == before   # nothing created, written or recorded
    code, report = ingest(sg, path, *args)
    shown = preview["report"]
    assert code == 3 and (report["status"], shown["status"]) == ("applied_with_errors", "applied_with_errors")
    assert shown["rows"] == report["rows"] and shown["changes"] == report["changes"]
    issues = _issues(report)
    assert _issues(shown) == issues   # main: the dry run read the file whole and listed all ~11,000 issues
    assert issues[-1][2] == "ISSUES_NOT_LISTED" and len(issues) > 9_000
    listed = {(row, code, value) for row, _, code, value, _ in issues}
    assert {(3, "CLAMPED_AT_ZERO", "-49"), (32, "NOT_AN_INTEGER", "abc"), (42, "QUANTITY_TOO_LARGE", "+1999999991"),
            (12_006, "DUPLICATE_SKU_SUMMED", "+1")} <= listed
    assert ((8, "UNKNOWN_SKU", "ZZ-NEW") in listed) is not create
    assert ((10, "CLAMPED_AT_ZERO", "-3") in listed) is create
    assert "DUPLICATE_SKU_SUMMED" in issues[-1][4] or "CLAMPED_AT_ZERO" in issues[-1][4]

    written = _ledger(db, report["file_id"])
    assert preview["total_changes"] == len(written)
    changes = [(c["sku"], c["warehouse"], c["before"], c["after"], c["row"]) for c in preview["changes"]]
    # file order, the ledger's order (a level that does not exist yet is `before: null`, its entry moves from 0)
    assert [(sku, wh, before or 0, after, row) for sku, wh, before, after, row in changes] == written[:1_000]
    assert changes[:4] == [("C00001", "MF", 10, 14, 2), ("C00002", "MF", 10, 0, 3), ("C00003", "MF", 10, 14, 4),
                           ("C00004", "MF", 10, 0, 5)]
    if create:
        assert ("ZZ-NEW", "MF", 0, 7, 8) in written
        assert ("ZZ-NEW", "MF", None, 7, 8) in changes   # no level before: it is created
    levels = stock(sg)
    assert [levels[sku]["MF"] for sku in ("C00001", "C00005", "C00031", "C00041", "C11999", "C12000")] == [
        14, 10 + 7 + 1, 11, 10, 10 + 3 - 1, 0]
    assert ("ZZ-NEW" in levels) is create and levels.get("ZZ-NEW", {}).get("MF") == (7 if create else None)


def test_a_dry_run_of_a_delta_file_takes_memory_that_does_not_grow_with_its_rows(sg, files, db, monkeypatch):
    rows = 100_000
    path = big_delta_file(sg, files, monkeypatch, rows)

    tracemalloc.start()
    try:
        result = sg("ingest", path, "--warehouse", "MF", "--mode", "delta", "--dry-run", "--changes", "--json")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    preview = json.loads(result.out)
    report = preview["report"]
    assert (result.code, report["status"], report["rows"]["total"], report["rows"]["errors"]) == (
        0, "applied", rows + 1, 0)
    moved = sum(1 for i in range(rows) if i % 7)
    assert preview["total_changes"] == moved and len(preview["changes"]) == 1_000
    assert preview["changes"][2] == {"sku": "N000003", "warehouse": "MF", "before": 10, "after": 10 - 3 + 2, "row": 5}
    assert stock(sg)["N000003"] == {"MF": 10}   # nothing applied
    # read whole (main) the rows took a traced peak of tens of MB; staged in chunks of 2,000: a few MB
    assert peak < 16 * 2**20, f"traced peak {peak / 2**20:.1f} MB"
