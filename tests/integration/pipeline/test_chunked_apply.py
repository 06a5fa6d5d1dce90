"""A large file is applied a chunk at a time inside its one transaction: a failure in its last chunk
leaves stock, ledger, items and the push outbox exactly as they were before the file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pipeline_helpers import ingest, stock
from sqlalchemy import select, text

from gateway.db import schema
from gateway.stock import ledger_sums

ROWS = 6_000      # six chunks of 1,000 rows
CHUNK = 1_000


def _csv(files, name: str, offset: int, skus: int = ROWS, extra_new: int = 0) -> str:
    lines = ["SKU,MF,EAST,WEST"]
    lines += [f"C{i:05d},{i % 50 + offset},{i % 7 + offset},{i % 11 + offset}" for i in range(1, skus + 1)]
    lines += [f"NEW{i:05d},{offset},{offset},{offset}" for i in range(1, extra_new + 1)]
    return files.csv(name, "\n".join(lines) + "\n")


def _snapshot(db) -> dict:
    with db.read() as conn:
        return {name: sorted(tuple(row) for row in conn.execute(select(table)))
                for name, table in (("items", schema.items), ("stock_levels", schema.stock_levels),
                                    ("ledger", schema.ledger), ("push_outbox", schema.push_outbox))}


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


def _fail_on_ledger_row(db, file_row: int) -> None:
    """A trigger that makes the database refuse the ledger entry of one file row (the file's last)."""
    with db.write() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text(f"CREATE TRIGGER sg_test_fail BEFORE INSERT ON ledger WHEN NEW.file_row = {file_row} "
                              "AND NEW.cause = 'file' BEGIN SELECT RAISE(ABORT, 'injected failure in the last "
                              "chunk'); END"))
        else:
            conn.execute(text(f"CREATE FUNCTION sg_test_fail() RETURNS trigger AS $$ BEGIN IF NEW.file_row = "
                              f"{file_row} AND NEW.cause = 'file' THEN RAISE EXCEPTION 'injected failure in the "
                              "last chunk'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"))
            conn.execute(text("CREATE TRIGGER sg_test_fail BEFORE INSERT ON ledger FOR EACH ROW "
                              "EXECUTE FUNCTION sg_test_fail()"))


def _drop_failure(db) -> None:
    with db.write() as conn:
        conn.execute(text("DROP TRIGGER sg_test_fail" + ("" if conn.dialect.name == "sqlite" else " ON ledger")))
        if conn.dialect.name != "sqlite":
            conn.execute(text("DROP FUNCTION sg_test_fail()"))


@pytest.mark.parametrize("new_skus", [0, 500], ids=["known-skus", "with-new-skus"])
def test_a_failure_in_the_last_chunk_leaves_everything_as_before_the_file(sg, files, db, monkeypatch, new_skus):
    monkeypatch.setattr("gateway.stock.levels.FILE_CHUNK_ROWS", CHUNK, raising=False)
    code, report = ingest(sg, _csv(files, "first.csv", 1), "--create-unknown-skus")
    assert (code, report["status"], report["rows"]["applied"]) == (0, "applied", ROWS), report["issues"][:3]
    _link_every_item(db)
    code, report = ingest(sg, _csv(files, "some.csv", 1, skus=20))   # a few levels move: pushes are owed
    assert code == 0
    code, report = ingest(sg, _csv(files, "owed.csv", 2, skus=20))
    assert code == 0 and report["changes"]["increased"] == 60
    before, shown = _snapshot(db), stock(sg)
    assert len(before["push_outbox"]) == 20 and len(before["ledger"]) == 3 * ROWS + 60

    chunks = []
    from gateway.channel_sync import outbox
    real_enqueue = outbox.enqueue_for_items
    def counting(conn, items, **kw):
        chunks.append(len(items))
        return real_enqueue(conn, items, **kw)

    monkeypatch.setattr(outbox, "enqueue_for_items", counting)
    total = ROWS + new_skus
    _fail_on_ledger_row(db, total + 1)   # the file's last row (row 1 is the header)
    big = _csv(files, "everything.csv", 5, extra_new=new_skus)   # every cell of every row changes
    result = sg("ingest", big, "--create-unknown-skus", "--json")

    assert result.code != 0 and "injected failure in the last chunk" in result.err + result.out, result
    assert chunks == [CHUNK] * ((total - 1) // CHUNK)   # every chunk before the last was written
    assert _snapshot(db) == before and stock(sg) == shown

    _drop_failure(db)   # the failed file went back to `received`: taken again first, it applies whole
    code, report = ingest(sg, big, "--create-unknown-skus", "--force")
    assert code == 0, report["issues"][:3]
    after = _snapshot(db)
    assert len(after["items"]) == ROWS + new_skus
    assert len(after["ledger"]) == len(before["ledger"]) + 3 * (ROWS + new_skus)
    assert len(after["push_outbox"]) == ROWS   # every linked listing owes its new figure
    shown = stock(sg)
    assert shown["C00001"] == {"MF": 6, "EAST": 6, "WEST": 6} and shown[f"C{ROWS:05d}"]["MF"] == ROWS % 50 + 5
    with db.read() as conn:
        levels = {(r.item_id, r.warehouse_id): r.on_hand for r in conn.execute(select(schema.stock_levels))}
        assert ledger_sums(conn) == levels   # level == sum of its ledger, for every level
