"""A `full` snapshot's zeroing and a dry run go the staged way a Quantity Update does: the levels a snapshot
zeroes stay in the database and are written a chunk at a time inside the file's one transaction, and a dry
run stages the file as processing would, so it reports exactly what the real run then does and changes
nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pipeline_helpers import ingest, stock
from sqlalchemy import select, text

from gateway.db import schema
from gateway.stock import ledger_sums

CHUNK = 1_000
ABSENT = "absent from full snapshot"


def _snapshot(db) -> dict:
    with db.read() as conn:
        tables = {name: sorted(tuple(row) for row in conn.execute(select(table)))
                  for name, table in (("items", schema.items), ("stock_levels", schema.stock_levels),
                                      ("ledger", schema.ledger), ("push_outbox", schema.push_outbox),
                                      ("files", schema.files), ("file_issues", schema.file_issues))}
    return tables


def _seed(sg, files, skus: int) -> None:
    """S00001..S<skus> in MF, each above 0, created from a Quantity Update."""
    lines = ["SKU,MF"] + [f"S{i:05d},{i % 50 + 1}" for i in range(1, skus + 1)]
    code, report = ingest(sg, files.csv("seed.csv", "\n".join(lines) + "\n"), "--create-unknown-skus")
    assert (code, report["rows"]["applied"]) == (0, skus), report["issues"][:3]


def _ledger(db, file_id: str) -> list[tuple]:
    """(SKU, warehouse, before, after, file row) of each ledger entry the file wrote, in the order written."""
    l, i, w = schema.ledger.c, schema.items.c, schema.warehouses.c
    with db.read() as conn:
        rows = conn.execute(select(i.sku, w.code, l.on_hand_after - l.delta, l.on_hand_after, l.file_row)
                            .join_from(schema.ledger, schema.items, i.id == l.item_id)
                            .join(schema.warehouses, w.id == l.warehouse_id)
                            .where(l.file_id == file_id).order_by(l.id)).all()
    return [tuple(row) for row in rows]


def test_a_dry_run_of_a_large_full_snapshot_changes_nothing_and_reports_what_the_real_run_then_does(
        sg, files, db, monkeypatch):
    monkeypatch.setattr("gateway.pipeline.staging.STAGE_CHUNK_ROWS", CHUNK)
    monkeypatch.setattr("gateway.stock.levels.FILE_CHUNK_ROWS", CHUNK)
    _seed(sg, files, 12_000)
    lines = ["SKU,Quantity"]
    lines += [f"S{i:05d},{i % 50 + 1 + (3 if i % 14 == 0 else 0)}" for i in range(1, 7_001)]   # 500 change
    lines += [f"U{i:05d},1" for i in range(1, 6_001)]   # unknown SKUs: 6,000 UNKNOWN_SKU, past the listed 10,000
    path = files.csv("count.csv", "\n".join(lines) + "\n")   # S07001..S12000 are absent: 5,000 zeroed
    before = _snapshot(db)

    dry = sg("ingest", path, "--warehouse", "MF", "--mode", "full", "--dry-run", "--changes", "--json")
    assert dry.out, dry
    preview = json.loads(dry.out)

    assert _snapshot(db) == before   # nothing created, written or recorded
    code, report = ingest(sg, path, "--warehouse", "MF", "--mode", "full")
    shown = preview["report"]
    assert (report["status"], shown["status"]) == ("applied_with_errors", "applied_with_errors")
    assert shown["rows"] == report["rows"] and shown["changes"] == report["changes"]
    assert report["changes"] == {"increased": 500, "decreased": 0, "zeroed": 5_000}
    issues = [(i["row"], i["sku"], i["code"], i["message"]) for i in report["issues"]]
    assert [(i["row"], i["sku"], i["code"], i["message"]) for i in shown["issues"]] == issues
    assert len(issues) == 10_001 and issues[-1][2] == "ISSUES_NOT_LISTED"
    assert "ZEROED_BY_SNAPSHOT 1,000" in issues[-1][3] and issues[6_000][1] == "S07001"   # zeroed ones by SKU
    written = _ledger(db, report["file_id"])
    assert preview["total_changes"] == len(written) == 5_500
    changes = [(c["sku"], c["warehouse"], c["before"], c["after"], c["row"]) for c in preview["changes"]]
    assert changes == written[:1_000]   # the 500 moved cells in file order, then the first zeroed SKUs
    assert changes[500] == ("S07001", "MF", 7_001 % 50 + 1, 0, None)
    levels = stock(sg)
    assert levels["S00014"]["MF"] == 14 % 50 + 4 and levels["S12000"]["MF"] == 0


def _link_every_item(db) -> None:
    """A sandbox channel with an active, linked listing per item, so every change owes a push."""
    now = datetime.now(UTC)
    with db.write() as conn:
        channel = conn.execute(schema.channels.insert().values(
            name="shop", marketplace="sandbox", adapter="sandbox", created_at=now)).inserted_primary_key[0]
        conn.execute(schema.listings.insert(), [
            {"channel_id": channel, "listing_id": f"L-{sku}", "sku": sku, "item_id": item, "status": "active",
             "first_seen_at": now, "last_seen_at": now}
            for item, sku in conn.execute(select(schema.items.c.id, schema.items.c.sku))])


def _fail_on_zeroing(db, item: int) -> None:
    """A trigger that makes the database refuse the zeroing ledger entry of one item (the last one zeroed)."""
    condition = f"NEW.item_id = {item} AND NEW.reference = '{ABSENT}'"
    with db.write() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text(f"CREATE TRIGGER sg_test_fail BEFORE INSERT ON ledger WHEN {condition} BEGIN "
                              "SELECT RAISE(ABORT, 'injected failure in the last zeroing chunk'); END"))
        else:
            conn.execute(text(f"CREATE FUNCTION sg_test_fail() RETURNS trigger AS $$ BEGIN IF {condition} THEN "
                              "RAISE EXCEPTION 'injected failure in the last zeroing chunk'; END IF; RETURN NEW; "
                              "END $$ LANGUAGE plpgsql"))
            conn.execute(text("CREATE TRIGGER sg_test_fail BEFORE INSERT ON ledger FOR EACH ROW "
                              "EXECUTE FUNCTION sg_test_fail()"))


def _drop_failure(db) -> None:
    with db.write() as conn:
        conn.execute(text("DROP TRIGGER sg_test_fail" + ("" if conn.dialect.name == "sqlite" else " ON ledger")))
        if conn.dialect.name != "sqlite":
            conn.execute(text("DROP FUNCTION sg_test_fail()"))


def test_a_failure_in_the_last_chunk_of_a_full_snapshots_zeroing_leaves_everything_as_before(
        sg, files, db, monkeypatch):
    monkeypatch.setattr("gateway.stock.levels.FILE_CHUNK_ROWS", CHUNK)
    _seed(sg, files, 6_000)
    _link_every_item(db)
    before, shown = _snapshot(db), stock(sg)
    with db.read() as conn:
        last = conn.execute(select(schema.items.c.id).where(schema.items.c.sku == "S06000")).scalar_one()

    chunks = []
    from gateway.channel_sync import outbox
    real_enqueue = outbox.enqueue_for_items

    def counting(conn, items, **kw):
        chunks.append(len(list(items)))
        return real_enqueue(conn, items, **kw)

    monkeypatch.setattr(outbox, "enqueue_for_items", counting)
    _fail_on_zeroing(db, last)
    lines = ["SKU,Quantity"] + [f"S{i:05d},{i % 50 + 2}" for i in range(1, 3_501)]   # 3,500 move; 2,500 zeroed
    path = files.csv("count.csv", "\n".join(lines) + "\n")
    result = sg("ingest", path, "--warehouse", "MF", "--mode", "full", "--json")

    assert result.code != 0 and "injected failure in the last zeroing chunk" in result.err + result.out, result
    assert chunks == [CHUNK] * 3 + [500] + [CHUNK] * 2   # the moved cells, then every zeroing chunk but the last
    after = _snapshot(db)
    assert {name: rows for name, rows in after.items() if name != "files"} == {
        name: rows for name, rows in before.items() if name != "files"} and stock(sg) == shown

    _drop_failure(db)   # the failed file went back to `received`: taken again first, it applies whole
    code, report = ingest(sg, path, "--warehouse", "MF", "--mode", "full", "--force")
    assert code == 0, report["issues"][:3]
    levels = stock(sg)
    assert levels["S03500"]["MF"] == 3_500 % 50 + 2 and levels["S03501"]["MF"] == levels["S06000"]["MF"] == 0
    with db.read() as conn:
        applied = conn.execute(select(schema.files.c.file_id, schema.files.c.report).where(
            schema.files.c.name == "count.csv", schema.files.c.status == "applied").order_by(schema.files.c.seq)).all()
    assert len(applied) == 2   # the file given back, then its forced copy, which changed nothing
    assert json.loads(applied[0].report)["changes"] == {"increased": 3_500, "decreased": 0, "zeroed": 2_500}
    assert report["changes"] == {"increased": 0, "decreased": 0, "zeroed": 0}
    zeroed = [entry for entry in _ledger(db, applied[0].file_id) if entry[4] is None]
    assert len(zeroed) == 2_500 and zeroed[0] == ("S03501", "MF", 3_501 % 50 + 1, 0, None)
    with db.read() as conn:
        assert len(conn.execute(select(schema.push_outbox)).all()) == 6_000   # every listing owes its figure
        levels = {(r.item_id, r.warehouse_id): r.on_hand for r in conn.execute(select(schema.stock_levels))}
        assert ledger_sums(conn) == levels   # level == sum of its ledger, for every level
