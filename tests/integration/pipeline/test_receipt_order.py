"""`ingest` keeps the order of receipt per warehouse, two copies of one file racing are applied once, and a
warehouse's newest as_of never moves backwards."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

from pipeline_helpers import codes, seed, stock
from sqlalchemy import select, update

from gateway.clock import as_utc
from gateway.db import schema
from gateway.db.engine import make_database
from gateway.intake import Delivery, receive_bytes
from gateway.pipeline import process_file
from gateway.pipeline.process import mark_warehouses
from gateway.settings import load_settings

NIGHT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
MORNING = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _erp_snapshot(db, data_dir) -> str:
    """The ERP's nightly export of EAST, fetched by an SFTP source and not processed yet."""
    return receive_bytes(db, data_dir, Delivery(name="erp.csv", transport="sftp", source="erp", warehouse="EAST",
                                                as_of=NIGHT), b"SKU,Qty\nA1,5\nA2,5\n")


def _files(db) -> dict[str, tuple[str, list[str]]]:
    """{name: (status, issue codes)} of every recorded file."""
    f = schema.files.c
    with db.read() as conn:
        rows = conn.execute(select(f.name, f.status, f.report).order_by(f.seq)).all()
    return {r.name: (r.status, codes(json.loads(r.report)) if r.report else []) for r in rows}


def _ledger_files(db) -> list[str]:
    """The file names of the ledger's file entries, in the order they were written."""
    le, f = schema.ledger.c, schema.files.c
    with db.read() as conn:
        return conn.execute(select(f.name).join_from(schema.ledger, schema.files, f.file_id == le.file_id)
                            .order_by(le.id)).scalars().all()


def test_ingest_applies_an_earlier_erp_snapshot_first_and_neither_file_is_stale(sg, db, data_dir, files):
    seed(sg, "A1 EAST 1", "A2 EAST 1")
    _erp_snapshot(db, data_dir)
    path = files.csv("count.csv", "SKU,Qty\nA1,8\n")

    result = sg("ingest", path, "--warehouse", "EAST", "--as-of", MORNING.isoformat(), "--json")

    assert result.code == 0, result
    assert result.json()["name"] == "count.csv" and result.json()["status"] == "applied"
    assert _files(db) == {"erp.csv": ("applied", []), "count.csv": ("applied", [])}
    assert _ledger_files(db) == ["erp.csv", "erp.csv", "count.csv"]
    assert stock(sg) == {"A1": {"EAST": 8}, "A2": {"EAST": 5}}


def test_ingest_waits_while_another_worker_is_processing_an_earlier_file(sg, db, data_dir, files, tmp_path):
    seed(sg, "A1 EAST 1", "A2 EAST 1")
    settings = load_settings(tmp_path / "stockgate.toml")
    erp = _erp_snapshot(db, data_dir)
    f = schema.files.c
    with db.write() as conn:   # a running `serve` on another host has just claimed the ERP file
        conn.execute(update(schema.files).where(f.file_id == erp).values(
            status="processing", claimed_by="other-host:7:worker", claimed_at=datetime.now(UTC), attempts=1))
    path = files.csv("count.csv", "SKU,Qty\nA1,8\n")
    done: dict = {}
    ingest = threading.Thread(target=lambda: done.update(result=sg(
        "ingest", path, "--warehouse", "EAST", "--as-of", MORNING.isoformat(), "--json")))
    ingest.start()
    deadline = time.monotonic() + 30
    while "count.csv" not in _files(db) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)   # ingest has received its file and is waiting behind the claimed one
    waiting = _files(db)
    process_file(db, settings, erp, worker_id="other-host:7:worker")   # the other worker finishes its file
    ingest.join(60)

    assert waiting == {"erp.csv": ("processing", []), "count.csv": ("received", [])}
    assert done["result"].code == 0, done["result"]
    assert _files(db) == {"erp.csv": ("applied", []), "count.csv": ("applied", [])}
    assert stock(sg) == {"A1": {"EAST": 8}, "A2": {"EAST": 5}}


def test_two_workers_racing_with_identical_copies_of_one_file_apply_it_once(sg, database_url, data_dir, tmp_path):
    seed(sg, "A1 EAST 1")
    settings = load_settings(tmp_path / "stockgate.toml")
    dbs = [make_database(database_url) for _ in range(2)]
    delivery = Delivery(name="adjust.csv", transport="ftp", account="east", warehouse="EAST", mode="delta")
    ids = [receive_bytes(dbs[0], data_dir, delivery, b"SKU,Qty\nA1,+5\n") for _ in range(2)]
    f = schema.files.c
    with dbs[0].write() as conn:   # each copy already held by its own worker (as FTP and CLI once could)
        for n, file_id in enumerate(ids):
            conn.execute(update(schema.files).where(f.file_id == file_id).values(
                status="processing", claimed_by=f"w{n}", claimed_at=datetime.now(UTC), attempts=1))
    both_parsed = threading.Barrier(2, timeout=30)   # both past the duplicate look-up before either writes
    # (a delta file is parsed inside its write transaction now, as every staged file is: meet before it)
    outcomes: dict = {}

    def work(n: int) -> None:
        try:
            outcomes[n] = process_file(dbs[n], settings, ids[n], worker_id=f"w{n}",
                                       on_phase=lambda phase: phase == "validating" and both_parsed.wait()).status
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            outcomes[n] = exc

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for db in dbs:
        db.dispose()

    assert sorted(outcomes.values()) == ["applied", "duplicate"]
    assert stock(sg)["A1"] == {"EAST": 6}
    entries = [e for e in sg("ledger", "--json").json()["entries"] if e["cause"] == "file"]
    assert [(e["sku"], e["warehouse"]) for e in entries] == [("A1", "EAST")]


def test_a_warehouses_newest_as_of_never_moves_backwards(sg, db):
    m = schema.warehouse_file_marks.c
    with db.read() as conn:
        east = conn.execute(select(schema.warehouses.c.id).where(schema.warehouses.c.code == "EAST")).scalar()
    for as_of, seq in ((MORNING, 2), (NIGHT, 1)):
        with db.write() as conn:
            mark_warehouses(conn, [east], as_of, seq)
    with db.read() as conn:
        mark = conn.execute(select(m.last_as_of, m.last_file_seq).where(m.warehouse_id == east)).one()
    assert (as_utc(mark.last_as_of), mark.last_file_seq) == (MORNING, 2)
