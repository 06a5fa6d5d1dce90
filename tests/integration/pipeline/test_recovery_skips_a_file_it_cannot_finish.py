"""One file whose report cannot be written (its report folder cannot be made) never stops processing, start-up
or recovery: it is reported and skipped, the other files are completed, and it is completed once it can be."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from pipeline_helpers import WAREHOUSES_TOML
from sqlalchemy import select, update

from gateway.clock import now
from gateway.db import schema
from gateway.intake import Delivery, receive_bytes
from gateway.pipeline import process_next, recover
from gateway.serve import serve
from gateway.settings import load_settings


def _receive(db, data_dir, name: str, warehouse: str, report_dir) -> str:
    delivery = Delivery(name=name, transport="ftp", account="east", warehouse=warehouse, report_dir=report_dir,
                        options={"create_unknown_skus": True})
    return receive_bytes(db, data_dir, delivery, f"SKU,Qty\n{name}-SKU,4\n".encode())


def _rows(db) -> dict:
    f = schema.files.c
    with db.read() as conn:
        return {r.file_id: r for r in conn.execute(select(f.file_id, f.status, f.spool_path))}


def test_recovery_reports_the_file_it_cannot_finish_and_finishes_the_others(sg, write_config, db, data_dir,
                                                                          tmp_path, caplog):
    settings = load_settings(write_config("[web]\nport = 0\n" + WAREHOUSES_TOML))   # serve() runs the web page
    blocked_a, blocked_b = tmp_path / "blocked-a", tmp_path / "blocked-b"
    blocked_a.write_text("a file where the report folder's parent should be")
    blocked_b.write_text("the same, until the operator fixes it")
    a = _receive(db, data_dir, "a.csv", "EAST", blocked_a / "reports")
    b = _receive(db, data_dir, "b.csv", "WEST", blocked_b / "reports")

    with caplog.at_level(logging.ERROR):
        assert process_next(db, settings, worker_id="w1") == a     # its report files cannot be written ...
        assert process_next(db, settings, worker_id="w1") == b
    assert {fid: r.status for fid, r in _rows(db).items()} == {a: "applied", b: "applied"}   # ... yet applied
    assert f"file {a} (a.csv) is applied, but its report files" in caplog.text

    blocked_b.unlink()                                             # the operator fixes one of the two folders
    with db.write() as conn:                                      # both finished long before the restart
        conn.execute(update(schema.files).values(finished_at=now() - timedelta(hours=1)))
    stop = threading.Event()
    stop.set()
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        assert serve(settings, db, stop=stop) == 0                 # start-up runs recovery and goes on

    assert f"file {a} (a.csv, applied) could not be completed after a crash" in caplog.text
    assert sorted(p.name for p in (blocked_b / "reports").iterdir()) == [
        f"b.csv.{b}.report.csv", f"b.csv.{b}.report.json"]
    rows = _rows(db)
    assert "/archive/" in rows[b].spool_path and "/archive/" not in rows[a].spool_path

    blocked_a.unlink()
    assert recover(db, settings) == {"requeued": 0, "reports_written": 1, "archived": 1, "failed": 0}
    assert len(list((blocked_a / "reports").iterdir())) == 2
    assert "/archive/" in _rows(db)[a].spool_path
