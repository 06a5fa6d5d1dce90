"""A `delta` stock file far larger than one parse chunk is staged in the database as it is read, its repeated
SKUs added up there: the report, the levels and the ledger are those the delta rules give, worked out here row
by row (repeats across chunk borders, clamping at 0, the too-large check and repeats of failed rows
included), and a failure in its last apply chunk leaves everything as before the file."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from pipeline_helpers import big_delta_file, ingest, stock
from sqlalchemy import select
from test_chunked_apply import _drop_failure, _fail_on_ledger_row, _link_every_item, _snapshot

from gateway.db import schema
from gateway.stock import ledger_sums
from parsers.issues import QUANTITY_LIMIT

ROWS = 6_000     # SKUs C00001..C06000, each at 10 in MF; the file's rows 2..6001 move each once
CHUNK = 1_000    # six parse chunks and six apply chunks


def _delta_file(files) -> str:
    lines = ["SKU,Qty"] + [f"C{i:05d},{('+', '-', '')[i % 3]}{i % 4 + 1}" for i in range(1, ROWS + 1)]
    lines[5] = "C00005,007"                      # row 6: as written, leading zeros
    lines[20] = "C00020,-50"                     # row 21: 10 - 50 clamps at 0
    lines[30] = "C00030,abc"                     # row 31 fails: its later rows still add up
    lines[40] = "C00040,+1999999995"             # row 41: 10 + this + its repeat would pass the limit
    lines[50] = "C00050,0"                       # row 51: no movement
    lines += [
        "C00011,+5",                             # row 6002: added to row 12, five chunks earlier
        "C00011,007",                            # row 6003: again, quoted as written
        "C00005,-3",                             # row 6004: added to row 6
        "C00030,+4",                             # row 6005: C00030's first kept row (row 31 failed)
        "C00030,-1",                             # row 6006: added to row 6005
        "C00040,+1",                             # row 6007: row 41's sum goes above the limit
        "C00060,-8",                             # row 6008: row 61 moves +1
        "C00060,-8",                             # row 6009: the sum -15 clamps 10 at 0
        "ZZ-UNKNOWN,+5",                         # row 6010: unknown SKU
        "ZZ-UNKNOWN,+5",                         # row 6011: its repeat is not applied either
        "C01000,+",                              # row 6012 fails: a sign without a number
        "C05999,+2",                             # row 6013: the last row, a repeat of row 6000
    ]
    return files.csv("movements.csv", "\n".join(lines) + "\n")


def _worked_out(path: str) -> tuple[dict, list[tuple]]:
    """The delta rules applied to the file here, row by row, independently of the pipeline: a row's movement
    is added to its SKU's first valid row (rows that fail and unknown SKUs take no part), a level never goes
    below 0, and a sum that would pass the limit is not applied. (counts, ledger: (SKU, delta, after, row))."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()[1:]
    sums: dict[str, list[int]] = {}   # SKU -> [first valid row, sum]
    for row, line in enumerate(lines, 2):
        sku, cell = line.split(",")
        try:
            value = int(cell)
        except ValueError:
            continue
        if sku.startswith("C"):
            sums.setdefault(sku, [row, 0])[1] += value
    counts, ledger = {"applied": 0, "increased": 0, "decreased": 0, "zeroed": 0}, []
    for sku, (row, total) in sorted(sums.items(), key=lambda kv: kv[1][0]):
        after = max(10 + total, 0)
        if 10 + total > QUANTITY_LIMIT or after == 10:
            continue
        ledger.append((sku, after - 10, after, row))
        counts["applied"] += 1
        counts["increased" if after > 10 else "zeroed" if after == 0 else "decreased"] += 1
    return counts, ledger


def _ledger(conn, file_id: str) -> list[tuple]:
    """(SKU, delta, after, file row) of the file's ledger entries, in the order written."""
    l, i = schema.ledger.c, schema.items.c
    return [tuple(r) for r in conn.execute(select(i.sku, l.delta, l.on_hand_after, l.file_row)
                                           .join_from(schema.ledger, schema.items, i.id == l.item_id)
                                           .where(l.file_id == file_id, l.cause == "file").order_by(l.id))]


def _levels(conn) -> dict:
    return {(r.item_id, r.warehouse_id): r.on_hand for r in conn.execute(select(schema.stock_levels))}


def _issues(report: dict) -> list[tuple]:
    return [(i["row"], i["code"], i["value"], i["message"]) for i in report["issues"]]


def _seed(sg, files) -> None:
    lines = ["SKU,MF"] + [f"C{i:05d},10" for i in range(1, ROWS + 1)]
    code, report = ingest(sg, files.csv("seed.csv", "\n".join(lines) + "\n"), "--create-unknown-skus")
    assert (code, report["rows"]["applied"]) == (0, ROWS), report["issues"][:3]


def test_a_delta_file_of_many_chunks_gives_the_report_levels_and_ledger_the_delta_rules_give(
        sg, files, db, monkeypatch):
    monkeypatch.setattr("gateway.pipeline.staging.STAGE_CHUNK_ROWS", CHUNK)
    monkeypatch.setattr("gateway.stock.levels.FILE_CHUNK_ROWS", CHUNK)
    _seed(sg, files)
    path = _delta_file(files)

    counts, expected_ledger = _worked_out(path)
    code, report = ingest(sg, path, "--warehouse", "MF", "--mode", "delta")

    assert code == 3 and report["status"] == "applied_with_errors"
    assert report["rows"]["applied"] == counts["applied"] and report["changes"] == {
        key: counts[key] for key in ("increased", "decreased", "zeroed")}
    assert report["rows"]["errors"] == 4   # rows 31, 41, 6010, 6012
    assert [(row, code, value) for row, code, value, _ in _issues(report) if code != "DUPLICATE_SKU_SUMMED"] == [
        (21, "CLAMPED_AT_ZERO", "-50"), (31, "NOT_AN_INTEGER", "abc"), (41, "QUANTITY_TOO_LARGE", "+1999999996"),
        (61, "CLAMPED_AT_ZERO", "-15"), (6010, "UNKNOWN_SKU", "ZZ-UNKNOWN"), (6012, "NOT_AN_INTEGER", "+")]
    summed = {row: (value, message) for row, code, value, message in _issues(report) if code == "DUPLICATE_SKU_SUMMED"}
    assert sorted(summed) == [6002, 6003, 6004, 6006, 6007, 6008, 6009, 6011, 6013]
    assert summed[6003][0] == "007" and "also appears on row 12" in summed[6003][1]
    assert "also appears on row 6005" in summed[6006][1]          # C00030's row 31 failed
    assert "was not applied either: row 6010 has an error" in summed[6011][1]
    with db.read() as conn:
        assert _ledger(conn, report["file_id"]) == expected_ledger
        assert ledger_sums(conn) == _levels(conn)
    levels = stock(sg)
    assert [levels[sku]["MF"] for sku in ("C00005", "C00011", "C00020", "C00030", "C00040", "C00050", "C00060")] == [
        14, 10 + 4 + 5 + 7, 0, 13, 10, 10, 0]


def test_a_failure_in_the_last_chunk_of_a_delta_file_leaves_everything_as_before(sg, files, db, monkeypatch):
    monkeypatch.setattr("gateway.pipeline.staging.STAGE_CHUNK_ROWS", CHUNK)
    monkeypatch.setattr("gateway.stock.levels.FILE_CHUNK_ROWS", CHUNK)
    _seed(sg, files)
    _link_every_item(db)
    lines = ["SKU,MF"] + [f"C{i:05d},{i % 5 + 11}" for i in range(1, 21)]
    assert ingest(sg, files.csv("owed.csv", "\n".join(lines) + "\n"))[0] == 0   # pushes are owed
    before, shown = _snapshot(db), stock(sg)
    assert len(before["push_outbox"]) == 20

    big = files.csv("moves.csv", "SKU,Qty\n" + "".join(f"C{i:05d},+{i % 9 + 1}\n" for i in range(1, ROWS + 1))
                    + "C00001,+1\n")   # a repeat across every chunk; row ROWS + 1 is C06000's
    chunks = []
    from gateway.channel_sync import outbox
    real_enqueue = outbox.enqueue_for_items

    def counting(conn, items, **kw):
        chunks.append(len(items))
        return real_enqueue(conn, items, **kw)

    monkeypatch.setattr(outbox, "enqueue_for_items", counting)
    _fail_on_ledger_row(db, ROWS + 1)
    result = sg("ingest", big, "--warehouse", "MF", "--mode", "delta", "--json")

    assert result.code != 0 and "injected failure in the last chunk" in result.err + result.out, result
    assert chunks == [CHUNK] * (ROWS // CHUNK - 1)   # every chunk before the last was written (main: one apply)
    assert _snapshot(db) == before and stock(sg) == shown

    _drop_failure(db)   # the failed file went back to `received`: taken again first, it applies once
    code, report = ingest(sg, big, "--warehouse", "MF", "--mode", "delta")
    assert report["status"] == "duplicate"   # this copy: the first one applied
    levels = stock(sg)
    assert levels["C00001"]["MF"] == shown["C00001"]["MF"] + 2 + 1 and levels["C06000"]["MF"] == 10 + 6000 % 9 + 1
    with db.read() as conn:
        assert ledger_sums(conn) == _levels(conn)
    assert len(_snapshot(db)["push_outbox"]) == ROWS


def test_the_memory_a_delta_file_takes_does_not_grow_with_its_rows(sg, files, db, monkeypatch):
    rows = 100_000
    path = big_delta_file(sg, files, monkeypatch, rows)

    tracemalloc.start()
    try:
        code, report = ingest(sg, path, "--warehouse", "MF", "--mode", "delta")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert (code, report["status"], report["rows"]["total"], report["rows"]["errors"]) == (0, "applied", rows + 1, 0)
    assert stock(sg)["N000003"] == {"MF": 10 - 3 + 2} and stock(sg)["N099999"] == {"MF": 10 - 99_999 % 7}
    # read whole (main) the rows took a traced peak of 68 MB; staged in chunks of 2,000: 6 MB
    assert peak < 16 * 2**20, f"traced peak {peak / 2**20:.1f} MB"
