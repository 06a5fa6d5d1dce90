"""Workers and claims: each file processed once, in order of receipt per warehouse; recovery after a crash."""

from __future__ import annotations

import threading

from pipeline_helpers import seed, stock
from sqlalchemy import select, update

from gateway.db import schema
from gateway.db.engine import make_database
from gateway.intake import Delivery, receive_bytes
from gateway.pipeline import process_next, recover
from gateway.settings import load_settings


def _queue(db, data_dir, count: int) -> list[str]:
    ids = []
    for n in range(count):
        warehouse = ("EAST", "WEST", None)[n % 3]
        text = f"SKU,Qty\nA1,{n}\n" if warehouse else f"SKU,MF\nA1,{n}\n"
        ids.append(receive_bytes(db, data_dir, Delivery(name=f"f{n}.csv", transport="folder",
                                                        source="test", warehouse=warehouse), text.encode()))
    return ids


def test_two_workers_never_claim_the_same_file_and_apply_each_warehouse_in_order(sg, database_url, data_dir,
                                                                                   tmp_path):
    seed(sg, "A1 MF 1", "A1 EAST 1", "A1 WEST 1")
    settings = load_settings(tmp_path / "stockgate.toml")
    queue_db = make_database(database_url)
    ids = _queue(queue_db, data_dir, 24)
    processed: dict[str, list[str]] = {"w1": [], "w2": []}
    errors: list[BaseException] = []

    def work(name: str) -> None:
        db = make_database(database_url)
        try:
            while (file_id := process_next(db, settings, worker_id=name)) is not None:
                processed[name].append(file_id)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=work, args=(name,)) for name in processed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    everything = processed["w1"] + processed["w2"]
    assert sorted(everything) == sorted(ids) and len(everything) == len(set(everything))
    f = schema.files.c
    with queue_db.read() as conn:
        statuses = dict(conn.execute(select(f.file_id, f.status)).all())
    assert set(statuses[i] for i in ids) == {"applied"}
    assert stock(sg)["A1"] == {"MF": 23, "EAST": 21, "WEST": 22}   # the last file of each kind wins
    queue_db.dispose()


def test_recover_requeues_abandoned_files_and_rewrites_missing_reports(sg, db, data_dir, tmp_path):
    seed(sg, "A1 EAST 1")
    settings = load_settings(tmp_path / "stockgate.toml")
    first, second = _queue(db, data_dir, 1)[0], receive_bytes(
        db, data_dir, Delivery(name="g.csv", transport="folder", source="test", warehouse="EAST"),
        b"SKU,Qty\nA1,7\n")
    assert process_next(db, settings, worker_id="w") == first
    for report in (data_dir / "reports").glob("*.report.*"):
        report.unlink()     # as if the worker died between the commit and writing the reports
    f = schema.files.c
    with db.write() as conn:
        conn.execute(update(schema.files).where(f.file_id == second).values(status="processing", claimed_by="dead"))
        conn.execute(update(schema.files).where(f.file_id == first).values(
            spool_path=str(data_dir / "spool" / first)))
    assert process_next(db, settings, worker_id="w") is None   # the abandoned file is not claimable ...
    counts = recover(db, settings)
    assert counts["requeued"] == 1 and counts["reports_written"] == 1
    assert len(list((data_dir / "reports").glob(f"*.{first}.report.json"))) == 1
    assert process_next(db, settings, worker_id="w") == second   # ... until recovered
    assert stock(sg)["A1"] == {"EAST": 7}


def test_a_finished_file_is_archived_by_year_and_month_and_leaves_the_spool(sg, db, data_dir, tmp_path):
    settings = load_settings(tmp_path / "stockgate.toml")
    file_id = _queue(db, data_dir, 1)[0]
    process_next(db, settings, worker_id="w")
    archived = list((data_dir / "archive").glob(f"*/*/{file_id}"))
    assert len(archived) == 1 and not (data_dir / "spool" / file_id).exists()
