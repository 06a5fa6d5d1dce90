"""`ingest --force` of a `delta` file whose first copy failed and went back to `received`: that copy is still
to be applied in its turn, so forcing a second one past the duplicate rule would apply the movements twice.
The command is refused, naming the waiting file; run without --force, the movements apply once."""

from __future__ import annotations

from pathlib import Path

from pipeline_helpers import ingest, seed, stock
from sqlalchemy import select
from test_chunked_apply import _drop_failure, _fail_on_ledger_row

from gateway.db import schema
from gateway.stock import ledger_sums


def _files(db) -> list[tuple]:
    f = schema.files.c
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(select(f.file_id, f.status, f.rows_applied).order_by(f.seq))]


def test_forcing_a_delta_file_whose_failed_copy_still_waits_is_refused_and_it_applies_once(sg, files, db):
    seed(sg, "A1 EAST 10", "A2 EAST 10")
    path = files.csv("moves.csv", "SKU,Qty\nA1,+5\nA2,-3\n")
    _fail_on_ledger_row(db, 3)   # the database refuses the file's last entry: the first try fails
    failed = sg("ingest", path, "--warehouse", "EAST", "--mode", "delta", "--json")
    assert failed.code != 0 and "injected failure" in failed.err + failed.out, failed
    [(first_id, status, _)] = _files(db)
    assert status == "received" and stock(sg)["A1"] == {"EAST": 10}   # given back, to be tried again
    _drop_failure(db)   # the cause is fixed; the operator sends the file again, past the duplicate rule

    forced = sg("ingest", path, "--warehouse", "EAST", "--mode", "delta", "--force", "--json")

    # main: the waiting copy applied, then the forced one too: A1 20, A2 4
    assert forced.code == 2 and forced.out == "", forced
    assert first_id in forced.err and "received" in forced.err and "twice" in forced.err
    assert forced.err.count("\n") == 1 and "without --force" in forced.err
    assert stock(sg) == {"A1": {"EAST": 10}, "A2": {"EAST": 10}} and len(_files(db)) == 1

    code, report = ingest(sg, path, "--warehouse", "EAST", "--mode", "delta")   # as the message says
    assert (code, report["status"]) == (4, "duplicate")   # the waiting copy went first and applied them
    assert stock(sg) == {"A1": {"EAST": 15}, "A2": {"EAST": 7}}
    assert [(status, applied) for _, status, applied in _files(db)] == [("applied", 2), ("duplicate", 0)]
    with db.read() as conn:
        levels = {(r.item_id, r.warehouse_id): r.on_hand for r in conn.execute(select(schema.stock_levels))}
        assert ledger_sums(conn) == levels


def test_forcing_an_applied_delta_file_still_applies_its_movements_again_on_request(sg, files):
    seed(sg, "A1 EAST 10")
    path = files.csv("moves.csv", "SKU,Qty\nA1,+5\n")
    assert ingest(sg, path, "--warehouse", "EAST", "--mode", "delta")[1]["status"] == "applied"
    code, report = ingest(sg, path, "--warehouse", "EAST", "--mode", "delta", "--force")
    assert (code, report["status"]) == (0, "applied") and stock(sg)["A1"] == {"EAST": 20}


def test_a_copy_that_arrives_as_the_forced_one_is_received_is_applied_once(sg, files, db, data_dir, monkeypatch):
    seed(sg, "A1 EAST 10")
    path = files.csv("moves.csv", "SKU,Qty\nA1,+5\n")
    from gateway.intake import Delivery, receive_file
    from gateway.pipeline import rerun
    real_check = rerun.refuse_forcing_waiting_movements

    def check_then_a_drop_arrives(db_, delivery, path_):
        real_check(db_, delivery, path_)   # nothing waits yet
        receive_file(db, data_dir, Delivery(name="moves.csv", transport="ftp", warehouse="EAST", mode="delta"),
                     Path(path_))          # the same movements dropped for EAST a moment later

    monkeypatch.setattr(rerun, "refuse_forcing_waiting_movements", check_then_a_drop_arrives)
    code, report = ingest(sg, path, "--warehouse", "EAST", "--mode", "delta", "--force")

    # the drop was received first, so it applies in its turn; the forced copy cannot have meant it (main: both)
    assert (code, report["status"], report["issues"][0]["code"]) == (4, "duplicate", "DUPLICATE_FILE")
    assert stock(sg)["A1"] == {"EAST": 15}
    assert [(status, applied) for _, status, applied in _files(db)] == [("applied", 1), ("duplicate", 0)]
