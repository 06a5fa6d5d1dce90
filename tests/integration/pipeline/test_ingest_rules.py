"""Processing rules through `stockgate ingest`: catalog, warehouses, modes, the guard, duplicates, as_of."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline_helpers import codes, ingest, seed, stock
from sqlalchemy import select

from gateway.db import schema
from gateway.intake import Delivery, receive_bytes
from gateway.pipeline import process_file
from gateway.settings import load_settings


def test_an_unknown_sku_is_an_error_unless_unknown_skus_may_be_created(sg, files):
    seed(sg, "A1 MF 1")
    path = files.csv("qu.csv", "SKU,MF\nA1,2\nNEW-1,5\n")
    code, report = ingest(sg, path)
    assert code == 3
    assert [(i["row"], i["code"], i["value"]) for i in report["issues"]] == [(3, "UNKNOWN_SKU", "NEW-1")]
    assert "NEW-1" not in stock(sg)
    code, report = ingest(sg, files.csv("qu2.csv", "SKU,MF\nNEW-1,5\n"), "--create-unknown-skus")
    assert code == 0 and stock(sg)["NEW-1"] == {"MF": 5}


def test_a_column_naming_no_warehouse_rejects_the_whole_file(sg, files):
    seed(sg, "A1 MF 1")
    code, report = ingest(sg, files.csv("qu.csv", "SKU,MF,EASTT\nA1,5,6\n"))
    assert code == 4 and report["status"] == "rejected"
    assert [(i["column"], i["code"]) for i in report["issues"]] == [("EASTT", "UNKNOWN_WAREHOUSE")]
    assert stock(sg)["A1"] == {"MF": 1}


def test_a_warehouse_the_account_may_not_write_rejects_the_whole_file(sg, files, db, data_dir, tmp_path):
    seed(sg, "A1 MF 1")
    settings = load_settings(tmp_path / "stockgate.toml")
    delivery = Delivery(name="qu.csv", transport="ftp", account="east",
                        options={"allowed_warehouses": ["EAST"]})
    file_id = receive_bytes(db, data_dir, delivery, b"SKU,EAST,WEST\nA1,5,6\n")
    report = process_file(db, settings, file_id)
    assert report.status == "rejected"
    assert [(i["column"], i["code"]) for i in report.document["issues"]] == [("WEST", "WAREHOUSE_NOT_ALLOWED")]
    assert stock(sg)["A1"] == {"MF": 1}


def test_an_account_bound_to_one_warehouse_may_send_a_stock_file_recognised_by_its_header(sg, files, db, data_dir,
                                                                                         tmp_path):
    seed(sg, "A1 EAST 1")
    settings = load_settings(tmp_path / "stockgate.toml")
    delivery = Delivery(name="east.csv", transport="ftp", account="east",
                        options={"allowed_warehouses": ["EAST"], "auto_kind": True})
    report = process_file(db, settings, receive_bytes(db, data_dir, delivery, b"Item;QtyOnHand\nA1;12\n"))
    assert (report.status, report.document["kind"], report.document["warehouse"]) == ("applied", "stock", "EAST")
    assert stock(sg)["A1"] == {"EAST": 12}


def test_an_ftp_account_bound_to_one_warehouse_may_send_either_kind_of_file(sg, files, db, data_dir, tmp_path):
    from datetime import UTC, datetime

    from gateway.settings import AccountSettings
    from gateway.transports.ftp.server import delivery_for

    seed(sg, "A1 EAST 1", "A2 EAST 1")
    settings = load_settings(tmp_path / "stockgate.toml")
    account = AccountSettings(username="east", password_hash="x", warehouses=("EAST",))

    def upload(name, content):
        delivery = delivery_for(account, name, data_dir / "reports", datetime.now(UTC))
        return process_file(db, settings, receive_bytes(db, data_dir, delivery, content))

    template = upload("template.csv", b"SKU,Title,EAST\nA1,Hat,9\n")
    assert (template.status, template.document["kind"]) == ("applied", "quantity_update")
    stock_file = upload("east.csv", b"Item;QtyOnHand\nA2;12\n")
    assert (stock_file.status, stock_file.document["kind"], stock_file.document["warehouse"]) == (
        "applied", "stock", "EAST")
    assert stock(sg)["A1"] == {"EAST": 9} and stock(sg)["A2"] == {"EAST": 12}
    refused = upload("west.csv", b"SKU,WEST\nA1,3\n")
    assert refused.status == "rejected"
    assert stock(sg)["A1"] == {"EAST": 9}


def test_a_full_snapshot_zeroes_absent_skus_but_never_one_whose_row_failed(sg, files):
    seed(sg, "A1 WEST 5", "A2 WEST 5", "A3 WEST 5", "A4 WEST 5")
    path = files.csv("west.csv", "SKU,Qty\nA1,7\nA2,abc\nA3,4\n")
    code, report = ingest(sg, path, "--warehouse", "WEST", "--mode", "full")
    assert code == 3, report
    levels = stock(sg)
    assert (levels["A1"], levels["A2"], levels["A3"], levels["A4"]) == (
        {"WEST": 7}, {"WEST": 5}, {"WEST": 4}, {"WEST": 0})
    assert report["changes"] == {"increased": 1, "decreased": 1, "zeroed": 1}


def test_the_snapshot_guard_holds_a_file_and_release_applies_it(sg, files):
    seed(sg, "A1 WEST 5", "A2 WEST 5", "A3 WEST 5")
    code, report = ingest(sg, files.csv("west.xlsx.csv", "SKU,Qty\nA1,6\n"), "--warehouse", "WEST", "--mode", "full")
    assert code == 4 and report["status"] == "held"
    assert codes(report) == ["SNAPSHOT_GUARD"]
    assert stock(sg)["A2"] == {"WEST": 5}
    released = sg("release", report["file_id"], "--json")
    assert released.code == 0, released
    assert released.json()["status"] == "applied"
    assert stock(sg)["A1"] == {"WEST": 6} and stock(sg)["A2"] == {"WEST": 0}
    assert sg("release", report["file_id"]).code == 2


def test_a_header_only_full_snapshot_is_held_for_too_few_rows(sg, files):
    seed(sg, "A1 WEST 5")
    code, report = ingest(sg, files.xlsx("west.xlsx", [["SKU", "Qty"]]), "--warehouse", "WEST", "--mode", "full")
    assert code == 4 and report["status"] == "held"
    assert "TOO_FEW_ROWS" in codes(report) and "HEADER_ONLY" in codes(report)
    assert stock(sg)["A1"] == {"WEST": 5}


def test_the_same_bytes_again_are_a_duplicate_and_change_nothing(sg, files):
    seed(sg, "A1 MF 1")
    path = files.csv("qu.csv", "SKU,MF\nA1,5\n")
    assert ingest(sg, path)[0] == 0
    seed(sg, "A1 MF 2")
    code, report = ingest(sg, path)
    assert (code, report["status"], codes(report)) == (4, "duplicate", ["DUPLICATE_FILE"])
    assert stock(sg)["A1"] == {"MF": 2}


def test_a_rejected_file_may_be_sent_again_once_fixed_or_as_is(sg, files):
    seed(sg, "A1 MF 1")
    path = files.csv("qu.csv", "SKU,NOPE\nA1,5\n")
    assert ingest(sg, path)[0] == 4
    assert ingest(sg, path)[1]["status"] == "rejected"


def test_a_file_older_than_the_newest_applied_for_its_warehouse_is_stale(sg, files):
    seed(sg, "A1 EAST 1")
    assert ingest(sg, files.csv("new.csv", "SKU,Qty\nA1,5\n"), "--warehouse", "EAST",
                  "--as-of", "2026-03-02T02:00:00Z")[0] == 0
    code, report = ingest(sg, files.csv("old.csv", "SKU,Qty\nA1,9\n"), "--warehouse", "EAST",
                          "--as-of", "2026-03-01T02:00:00Z")
    assert (code, codes(report)) == (4, ["STALE_FILE"])
    assert stock(sg)["A1"] == {"EAST": 5}


def test_a_delta_file_is_never_stale_and_never_makes_an_older_snapshot_stale(sg, files):
    seed(sg, "A1 EAST 10")
    snapshot = ("--warehouse", "EAST", "--as-of")
    assert ingest(sg, files.csv("night.csv", "SKU,Qty\nA1,20\n"), *snapshot, "2026-03-02T02:00:00Z")[0] == 0

    old_moves = ingest(sg, files.csv("moves-old.csv", "SKU,Qty\nA1,-3\n"), *snapshot, "2026-03-01T12:00:00Z",
                       "--mode", "delta")
    new_moves = ingest(sg, files.csv("moves-new.csv", "SKU,Qty\nA1,+4\n"), *snapshot, "2026-03-02T09:00:00Z",
                       "--mode", "delta")
    count = ingest(sg, files.csv("count.csv", "SKU,Qty\nA1,30\n"), *snapshot, "2026-03-02T06:00:00Z")
    stale = ingest(sg, files.csv("older.csv", "SKU,Qty\nA1,1\n"), *snapshot, "2026-03-02T04:00:00Z")

    assert [(c, r["status"], codes(r)) for c, r in (old_moves, new_moves, count)] == [(0, "applied", [])] * 3
    assert (stale[0], codes(stale[1])) == (4, ["STALE_FILE"])     # older than the 06:00 count, a snapshot
    assert stock(sg)["A1"] == {"EAST": 30}


def test_a_timestamp_in_the_file_name_sets_as_of(sg, files):
    seed(sg, "A1 EAST 1")
    _code, report = ingest(sg, files.csv("stock_20260301T0200.csv", "SKU,Qty\nA1,5\n"), "--warehouse", "EAST")
    assert report["as_of"] == "2026-03-01T02:00:00+00:00"


def test_a_delta_file_adds_and_subtracts_and_clamps_at_zero(sg, files):
    seed(sg, "A1 EAST 10", "A2 EAST 10", "A3 EAST 2")
    code, report = ingest(sg, files.csv("d.csv", "SKU,Qty\nA1,+5\nA2,-3\nA3,-8\n"), "--warehouse", "EAST",
                          "--mode", "delta")
    assert code == 0, report
    assert [stock(sg)[s]["EAST"] for s in ("A1", "A2", "A3")] == [15, 7, 0]
    assert [(i["row"], i["code"]) for i in report["issues"]] == [(4, "CLAMPED_AT_ZERO")]


def _accepted_order(db, sku: str, warehouse: str, units: int, placed_at: datetime):
    now = datetime.now(UTC)
    with db.write() as conn:
        channel = conn.execute(select(schema.channels.c.id).where(schema.channels.c.name == "shop")).scalar()
        if channel is None:
            channel = conn.execute(schema.channels.insert().values(
                name="shop", marketplace="other", adapter="sandbox", restore_policy="smart", buffer=0, max_qty=0,
                enabled=True, imported=True, created_at=now)).inserted_primary_key[0]
        order = conn.execute(schema.orders.insert().values(
            channel_id=channel, order_id=f"O-{sku}-{units}", placed_at=placed_at, status="accepted", oversold=0,
            created_at=now)).inserted_primary_key[0]
        line = conn.execute(schema.order_lines.insert().values(
            order_pk=order, line_id="1", sku=sku, quantity=units, oversold=0, status="open")).inserted_primary_key[0]
        wh = conn.execute(select(schema.warehouses.c.id).where(schema.warehouses.c.code == warehouse)).scalar()
        conn.execute(schema.allocations.insert().values(order_line_id=line, warehouse_id=wh, units=units,
                                                        restored_units=0, placed_at=placed_at))


def test_units_of_accepted_orders_placed_after_as_of_are_subtracted(sg, files, db):
    seed(sg, "A1 EAST 8", "A2 EAST 8", "A3 EAST 8")
    _accepted_order(db, "A1", "EAST", 2, datetime(2026, 3, 1, 3, tzinfo=UTC))    # after as_of: subtracted
    _accepted_order(db, "A2", "EAST", 5, datetime(2026, 3, 1, 1, tzinfo=UTC))    # before as_of: in the figure
    _accepted_order(db, "A3", "EAST", 9, datetime(2026, 3, 1, 3, tzinfo=UTC))    # more than the file says
    code, report = ingest(sg, files.csv("s.csv", "SKU,Qty\nA1,10\nA2,10\nA3,4\n"), "--warehouse", "EAST",
                          "--as-of", "2026-03-01T02:00:00Z")
    assert code == 0, report
    assert [stock(sg)[s]["EAST"] for s in ("A1", "A2", "A3")] == [8, 10, 0]
    assert [(i["row"], i["code"]) for i in report["issues"]] == [(2, "ORDER_ADJUSTMENT"), (4, "ORDER_ADJUSTMENT")]


def test_every_ledger_entry_of_a_file_names_the_file_and_its_row(sg, files):
    seed(sg, "A1 MF 1", "A2 MF 1")
    _code, report = ingest(sg, files.csv("qu.csv", "SKU,MF,EAST\nA1,3,\nA2,1,4\n"))
    entries = [e for e in sg("ledger", "--json").json()["entries"] if e["cause"] == "file"]
    assert sorted((e["sku"], e["warehouse"], e["file_id"], e["row"]) for e in entries) == [
        ("A1", "MF", report["file_id"], 2), ("A2", "EAST", report["file_id"], 3)]


def test_a_dry_run_reports_what_would_change_and_records_nothing(sg, files):
    seed(sg, "A1 MF 1")
    code, report = ingest(sg, files.csv("qu.csv", "SKU,MF\nA1,5\n"), "--dry-run")
    assert (code, report["status"], report["changes"]["increased"]) == (0, "applied", 1)
    assert stock(sg)["A1"] == {"MF": 1}
    assert sg("history", "--json").json()["files"] == []
