"""A file far larger than one parse chunk is read a chunk at a time straight into the database, with its
repeated SKUs found there: the report, the levels and the ledger are those of the file read whole
(`parse_file` and the plan from Python's columns, as dry runs were made before they were staged too),
repeats across chunk borders included, and Python's memory does not follow the file's size."""

from __future__ import annotations

import hashlib
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from pipeline_helpers import ingest, seed, stock
from sqlalchemy import select

from gateway.db import schema
from gateway.intake import Delivery
from gateway.pipeline.process import FileFacts, build_report, decide, read_and_parse
from gateway.settings import load_settings
from gateway.stock import warehouses

ROWS = 6_000     # SKUs C00001..C06000, rows 2..6001: six parse chunks of 1,000 rows
CHUNK = 1_000


def _row(i: int, mf: int | str, east: int | str = 1, title: str = "") -> str:
    return f"C{i:05d},{title or f'Item {i}'},{mf},{east}"


def _file(files) -> tuple[str, dict[str, dict[str, int]]]:
    """The file and the levels it must leave (MF, EAST of each SKU the file sets)."""
    lines = ["SKU,Title,MF,EAST"] + [_row(i, i % 40 + 2) for i in range(1, ROWS + 1)]
    lines[1] = "C00001,Item 1,abc,1"               # row 2 fails: its later repeat (row 5003) conflicts with it
    lines += [
        _row(10, 10 % 40 + 2),                     # row 6002: agrees with row 11, five chunks earlier
        _row(2500, 99),                            # row 6003: disagrees with row 2501: neither applies
        _row(2500, 2500 % 40 + 2),                 # row 6004: agrees, but the SKU is conflicting already
        _row(1, 7),                                # row 6005: repeats row 2, which failed
        "ZZ-UNKNOWN,Nobody,5,5",                   # row 6006: unknown SKU
        "ZZ-UNKNOWN,Nobody,5,5",                   # row 6007: agrees with a row that failed in the plan
        "C04000,Item 4000,,",                      # row 6008: an empty repeat of row 4001 (values differ)
    ]
    expected = {f"C{i:05d}": {"MF": i % 40 + 2, "EAST": 1} for i in range(1, ROWS + 1)}
    for sku in ("C00001", "C02500", "C04000"):
        expected[sku] = {"MF": 1, "EAST": 1}       # left as seeded
    return files.csv("big.csv", "\n".join(lines) + "\n"), expected


def _read_whole(db, config: Path, path: str) -> dict:
    """The report of the file read whole by `parse_file` and planned from its columns (nothing written)."""
    data = Path(path).read_bytes()
    settings = load_settings(str(config))
    delivery = Delivery(name=Path(path).name, transport="cli")
    facts = FileFacts(None, None, delivery.name, "cli", None, "absolute", hashlib.sha256(data).hexdigest(),
                      len(data), delivery.dedupe_scope, datetime.now(UTC), None, {})
    with db.read() as conn:
        kind, options, parsed = read_and_parse(settings, facts, data, set(warehouses(conn)))
        assert not parsed.streamed
        outcome = decide(conn, settings, facts, kind, options, parsed, guard=True, create_items=False, lock=False)
    return build_report(facts, outcome, time.monotonic()).document


def _issues(report: dict) -> list[tuple]:
    return [(i["row"], i["code"], i["message"]) for i in report["issues"]]


def test_a_file_of_many_parse_chunks_gives_the_report_levels_and_ledger_of_the_file_read_whole(
        sg, files, db, monkeypatch, tmp_path):
    monkeypatch.setattr("gateway.pipeline.staging.STAGE_CHUNK_ROWS", CHUNK)
    monkeypatch.setattr("gateway.stock.levels.FILE_CHUNK_ROWS", CHUNK)
    lines = ["SKU,MF,EAST"] + [f"C{i:05d},1,1" for i in range(1, ROWS + 1)]
    assert ingest(sg, files.csv("seed.csv", "\n".join(lines) + "\n"), "--create-unknown-skus")[0] == 0
    path, expected = _file(files)

    whole = _read_whole(db, tmp_path / "stockgate.toml", path)
    _, dry = ingest(sg, path, "--dry-run")       # staged as the real run is
    _, report = ingest(sg, path)
    assert (dry["status"], dry["rows"], dry["changes"], _issues(dry)) == (
        report["status"], report["rows"], report["changes"], _issues(report))

    assert report["status"] == whole["status"] == "applied_with_errors"
    assert report["rows"] == whole["rows"] and report["changes"] == whole["changes"]
    assert _issues(report) == _issues(whole)
    repeats = [(row, code) for row, code, _ in _issues(report) if code.startswith("DUPLICATE")]
    assert repeats == [(2, "DUPLICATE_SKU"), (2501, "DUPLICATE_SKU"), (2501, "DUPLICATE_SKU"), (4001, "DUPLICATE_SKU"),
                       (6002, "DUPLICATE_SKU_AGREES"), (6003, "DUPLICATE_SKU"), (6004, "DUPLICATE_SKU"),
                       (6005, "DUPLICATE_SKU"), (6007, "DUPLICATE_SKU_AGREES"), (6008, "DUPLICATE_SKU")]
    messages = dict(((row, code), message) for row, code, message in _issues(report))
    assert "only row 11 counts" in messages[(6002, "DUPLICATE_SKU_AGREES")]
    assert "neither was applied: row 6006 has an error" in messages[(6007, "DUPLICATE_SKU_AGREES")]
    assert report["rows"]["applied"] == ROWS - 3   # C00001, C02500, C04000 are not applied
    assert stock(sg) == expected
    with db.read() as conn:
        l = schema.ledger.c
        entries = conn.execute(select(l.file_row, l.delta).where(l.file_id == report["file_id"])).all()
    moved = sum(1 for sku, levels in expected.items() if levels["MF"] != 1)
    assert len(entries) == moved == report["changes"]["increased"]
    assert sorted(row for row, _ in entries) == [i + 1 for i in range(1, ROWS + 1)   # each SKU's first row
                                                 if f"C{i:05d}" not in ("C00001", "C02500", "C04000")]


def test_the_memory_a_file_takes_does_not_grow_with_its_rows(sg, files, db, monkeypatch):
    monkeypatch.setattr("gateway.pipeline.staging.STAGE_CHUNK_ROWS", 2_000)
    rows = 100_000
    seed(sg, "K1 MF 1")
    path = files.csv("many.csv", "SKU,Title,MF,EAST\n" + "".join(
        f"N{i:06d},A title for item {i},{i % 90},{i % 7}\n" for i in range(rows)))

    tracemalloc.start()
    try:
        code, report = ingest(sg, path, "--create-unknown-skus")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert (code, report["status"], report["rows"]["total"], report["rows"]["errors"]) == (0, "applied", rows, 0)
    assert stock(sg)["N099999"] == {"MF": 99_999 % 90, "EAST": 99_999 % 7}
    # read whole (main before the streamed parse) the rows took a traced peak of 43 MB; chunks of 2,000: 8 MB
    assert peak < 16 * 2**20, f"traced peak {peak / 2**20:.1f} MB"


def test_a_file_with_more_issues_than_a_report_lists_counts_the_rest_and_still_applies_its_good_rows(sg, files, db):
    seed(sg, *(f"K{i} MF 1" for i in range(20)))
    bad = 10_000   # LISTED_ISSUES: the parser's issues fill the list
    lines = ["SKU,MF"] + [f"B{i:05d},x" for i in range(bad)]
    lines += [f"NOPE{i},4" for i in range(30)]                         # unknown SKUs: counted, not listed
    lines += [f"K{i},{i + 2}" for i in range(20)] + [f"K{i},0" for i in range(10)]   # 10 conflicting repeats
    code, report = ingest(sg, files.csv("bad.csv", "\n".join(lines) + "\n"))

    assert report["status"] == "applied_with_errors"
    assert len(report["issues"]) == bad + 1
    last = report["issues"][-1]
    assert (last["code"], last["severity"]) == ("ISSUES_NOT_LISTED", "info")
    assert last["message"] == ("50 more issues are not listed (a report lists the first 10,000): UNKNOWN_SKU 30, "
                               "DUPLICATE_SKU 20")
    assert report["rows"]["errors"] == bad + 30 + 20   # every row with an error, listed or not
    assert report["rows"]["applied"] == 10             # K10..K19; K0..K9 repeat with other values
    levels = stock(sg)
    assert [levels[f"K{i}"]["MF"] for i in (0, 9, 10, 19)] == [1, 1, 12, 21]
    with db.read() as conn:
        listed = conn.execute(select(schema.file_issues.c.code).where(
            schema.file_issues.c.file_seq == select(schema.files.c.seq).where(
                schema.files.c.file_id == report["file_id"]).scalar_subquery())).scalars().all()
    assert len(listed) == bad + 1 and listed.count("NOT_AN_INTEGER") == bad


def test_a_file_in_sku_order_still_finds_a_sku_repeated_across_a_chunk_border(sg, files, db, monkeypatch):
    """A file whose SKUs only ever increase skips the search for repeats (none can repeat); a SKU written twice
    in a row breaks the order wherever it falls, at a parse chunk's border too, and is found as before."""
    monkeypatch.setattr("gateway.pipeline.staging.STAGE_CHUNK_ROWS", CHUNK)
    seed(sg, "C00001 MF 1")
    lines = ["SKU,MF,EAST"]
    for i in range(1, 3_001):
        lines.append(f"C{i:05d},{i % 40 + 2},1")
        if 900 <= i <= 1_400:   # repeated on the next row, agreeing: a parse chunk ends somewhere in here
            lines.append(f"C{i:05d},{i % 40 + 2},1")
    code, report = ingest(sg, files.csv("ordered.csv", "\n".join(lines) + "\n"), "--create-unknown-skus")
    ordered = files.csv("ordered_clean.csv",
                        "SKU,MF,EAST\n" + "".join(f"D{i:05d},{i % 9 + 1},2\n" for i in range(3_000)))
    code_clean, clean = ingest(sg, ordered, "--create-unknown-skus")

    agrees = [i["row"] for i in report["issues"] if i["code"] == "DUPLICATE_SKU_AGREES"]
    assert (code, report["status"], report["rows"]["total"]) == (0, "applied", 3_000 + 501)
    assert len(agrees) == 501 and report["rows"]["applied"] == 3_000
    assert stock(sg)["C01400"] == {"MF": 1_400 % 40 + 2, "EAST": 1}
    assert (code_clean, clean["status"], clean["rows"]["applied"], clean["issues"]) == (0, "applied", 3_000, [])
