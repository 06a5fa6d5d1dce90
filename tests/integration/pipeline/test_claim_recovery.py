"""Claims that are never given back: Ctrl-C gives the file back, a heartbeat keeps a live claim, and the
worker's periodic recovery takes back a claim whose heartbeat went stale (or whose process is gone)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from pipeline_helpers import seed, stock
from sqlalchemy import func, select, update

from gateway.clock import now
from gateway.db import schema
from gateway.db.engine import make_database
from gateway.errors import UsageError
from gateway.intake import Delivery, receive_bytes
from gateway.pipeline import STALE_AFTER, process_file, process_next, recover
from gateway.serve import ProcessingWorker
from gateway.settings import load_settings


def _receive(db, data_dir, text: str, name: str = "east.csv") -> str:
    return receive_bytes(db, data_dir, Delivery(name=name, transport="folder", source="erp", warehouse="EAST"),
                         text.encode())


def _file(db, file_id: str):
    f = schema.files.c
    with db.read() as conn:
        return conn.execute(select(f.status, f.claimed_by, f.attempts, f.status_message)
                            .where(f.file_id == file_id)).one()


def _ledger_entries(db, file_id: str) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(schema.ledger)
                            .where(schema.ledger.c.file_id == file_id)).scalar()


def _claimed_elsewhere(db, file_id: str, holder: str, heartbeat_age: timedelta) -> None:
    """As if `holder` had claimed the file and last beat `heartbeat_age` ago."""
    f = schema.files.c
    with db.write() as conn:
        conn.execute(update(schema.files).where(f.file_id == file_id).values(
            status="processing", claimed_by=holder, claimed_at=now() - heartbeat_age, attempts=1))


def _wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.05)


def test_ctrl_c_during_processing_gives_the_file_back_and_the_next_worker_applies_it(sg, db, data_dir, tmp_path):
    seed(sg, "A1 EAST 1")
    settings = load_settings(tmp_path / "stockgate.toml")
    file_id = _receive(db, data_dir, "SKU,Qty\nA1,7\n")

    def ctrl_c(phase: str) -> None:
        if phase == "validating":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        process_file(db, settings, file_id, on_phase=ctrl_c)

    left = _file(db, file_id)
    assert (left.status, left.claimed_by) == ("received", None)
    assert left.status_message == "processing interrupted: KeyboardInterrupt: "
    assert left.attempts == 0          # an interruption is no failure of the file: it is never rejected for it
    assert stock(sg)["A1"] == {"EAST": 1}
    assert process_next(db, settings, worker_id="next") == file_id
    assert _file(db, file_id).status == "applied" and stock(sg)["A1"] == {"EAST": 7}


def test_the_workers_periodic_recovery_takes_back_a_stale_claim_and_applies_the_file_once(sg, db, data_dir,
                                                                                          tmp_path):
    seed(sg, "A1 EAST 1")
    settings = load_settings(tmp_path / "stockgate.toml")
    file_id = _receive(db, data_dir, "SKU,Qty\nA1,7\n")
    later = _receive(db, data_dir, "SKU,Qty\nA1,9\n", name="later.csv")
    _claimed_elsewhere(db, file_id, "other-host:4242:worker", STALE_AFTER + timedelta(seconds=30))

    worker = ProcessingWorker(db, settings, worker_id="this-host:1:worker", poll_seconds=0.05, recover_every=0.1)
    worker.start()
    try:
        _wait_for(lambda: _file(db, later).status == "applied", "both files applied")
    finally:
        worker.stop(30)

    assert [_file(db, i).status for i in (file_id, later)] == ["applied", "applied"]
    assert _file(db, file_id).claimed_by == "this-host:1:worker"
    assert [_ledger_entries(db, i) for i in (file_id, later)] == [1, 1]   # each applied once, in order
    assert stock(sg)["A1"] == {"EAST": 9}


def test_a_live_claim_with_a_fresh_heartbeat_is_not_taken_back_by_another_workers_recovery(
        sg, database_url, data_dir, tmp_path, monkeypatch):
    monkeypatch.setattr("gateway.pipeline.heartbeat.HEARTBEAT_SECONDS", 0.2)
    stale_after = timedelta(seconds=1)
    seed(sg, "A1 EAST 1")
    settings = load_settings(tmp_path / "stockgate.toml")
    db_a, db_b = make_database(database_url), make_database(database_url)
    file_id = _receive(db_a, data_dir, "SKU,Qty\nA1,7\n")
    validating, go_on = threading.Event(), threading.Event()
    outcome: dict = {}

    def slow_phase(phase: str) -> None:
        if phase == "validating":
            validating.set()
            go_on.wait(30)

    def worker_a() -> None:
        try:
            outcome["report"] = process_file(db_a, settings, file_id, worker_id="host-a:1:worker",
                                             on_phase=slow_phase)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            outcome["error"] = exc

    thread = threading.Thread(target=worker_a)
    thread.start()
    try:
        assert validating.wait(30)
        time.sleep(2 * stale_after.total_seconds())   # longer than stale_after since the claim was taken
        counts = recover(db_b, settings, stale_after=stale_after)
        held = _file(db_b, file_id)
    finally:
        go_on.set()
        thread.join(60)

    assert counts["requeued"] == 0
    assert (held.status, held.claimed_by) == ("processing", "host-a:1:worker")
    assert "error" not in outcome and outcome["report"].status == "applied"
    assert _ledger_entries(db_b, file_id) == 1 and stock(sg)["A1"] == {"EAST": 7}
    db_a.dispose()
    db_b.dispose()


def test_recovery_at_start_takes_back_a_claim_of_a_dead_local_process_but_not_a_fresh_remote_one(
        sg, db, data_dir, tmp_path):
    settings = load_settings(tmp_path / "stockgate.toml")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead_local = f"{socket.gethostname()}:{gone.stdout.strip()}:worker"
    crashed, elsewhere = _receive(db, data_dir, "SKU,Qty\nA1,1\n"), _receive(db, data_dir, "SKU,Qty\nA2,1\n")
    _claimed_elsewhere(db, crashed, dead_local, timedelta(seconds=5))
    _claimed_elsewhere(db, elsewhere, "other-host:4242:worker", timedelta(seconds=5))

    counts = recover(db, settings, stale_after=STALE_AFTER)

    assert counts["requeued"] == 1
    assert _file(db, crashed).status == "received"
    still_held = _file(db, elsewhere)
    assert (still_held.status, still_held.claimed_by) == ("processing", "other-host:4242:worker")


def test_process_file_refuses_a_file_whose_warehouse_has_an_earlier_file_waiting(sg, db, data_dir, tmp_path):
    settings = load_settings(tmp_path / "stockgate.toml")
    first = _receive(db, data_dir, "SKU,Qty\nA1,1\n", name="first.csv")
    second = _receive(db, data_dir, "SKU,Qty\nA1,2\n", name="second.csv")

    with pytest.raises(UsageError) as refused:
        process_file(db, settings, second)

    assert str(refused.value) == (f"file {second} waits for file {first} (first.csv, received), received before "
                                  "it: files are applied in order of receipt")
    assert _file(db, second).status == "received"
