"""The command line's contract (DESIGN "Command line"): bad input is one line on stderr and exit 2, never a
traceback or an internal error; configuration edits take effect without `init`."""

import os
import sys

import pytest
from sqlalchemy import select

from gateway.db import schema

WAREHOUSES = '[[warehouses]]\ncode = "EAST"\npriority = 1\n[[warehouses]]\ncode = "WEST"\npriority = 2\n'


def one_line_error(result, *words: str) -> None:
    assert result.code == 2, result
    assert result.err.count("\n") == 1 and result.err.startswith("stockgate"), result.err
    assert "internal error" not in result.err and "Traceback" not in result.err
    for word in words:
        assert word in result.err, result.err


@pytest.fixture
def sg(stockgate, write_config):
    stockgate("init", config=write_config(WAREHOUSES))
    return stockgate


def test_a_channel_setting_edited_in_the_config_takes_effect_on_the_next_command(stockgate, write_config, db):
    channel = '[[channels]]\nname = "shop"\nmarketplace = "shopify"\nbuffer = {buffer}\n'
    assert stockgate("init", config=write_config(channel.format(buffer=0))).code == 0
    assert stockgate("stock", config=write_config(channel.format(buffer=5) + "enabled = false\n")).code == 0
    c = schema.channels.c
    with db.read() as conn:
        assert conn.execute(select(c.buffer, c.enabled).where(c.name == "shop")).one() == (5, False)


def test_a_port_out_of_range_stops_the_command_naming_file_and_key(stockgate, write_config):
    path = write_config("[ftp]\nport = 99999999\n")
    one_line_error(stockgate("stock", config=path), f"{path}: ftp.port: 99999999 is not a port number")


def test_an_unsupported_database_url_names_the_config_file(stockgate, write_config, tmp_path):
    path = tmp_path / "mysql.toml"
    path.write_text('database_url = "mysql://x"\n', encoding="utf-8")
    one_line_error(stockgate("stock", config=path), f"{path}: database_url: 'mysql' is not supported")


def test_the_deprecated_restore_switch_is_one_warning_line_and_the_command_still_runs(stockgate, write_config):
    path = write_config('[[channels]]\nname = "ebay"\nmarketplace = "ebay"\nrestore_qty_on_cancel = true\n')
    assert stockgate("init", config=path).code == 0
    result = stockgate("stock")
    assert result.code == 0
    assert result.err.splitlines() == [(
        f"stockgate: warning: {path}: channels[0] ('ebay'): restore_qty_on_cancel = true is deprecated and is read "
        'as restore_policy = "always"; replace it with restore_policy = "always" (or "smart" to decide by the '
        "marketplace's cancellation reason)")]


@pytest.mark.parametrize("args, words", [
    (("set", "A1", "MF", "99999999999999999999"), "above the limit of 2,000,000,000"),
    (("set", "A1", "MF", "3000000000"), "above the limit of 2,000,000,000"),
    (("warehouses", "add", "W2", "--priority", "99999999999999999999"), "must be 0 to"),
    (("history", "--limit", "99999999999999999999"), "must be 1 to"),
    (("history", "--limit", "0"), "must be 1 to"),
    (("ledger", "--limit", "-1"), "must be 1 to"),
    (("ledger", "--limit", "many"), "not a whole number"),
    (("history", "--warehouse", "NOPE"), "unknown warehouse 'NOPE' (known: MF, EAST, WEST)"),
])
def test_numbers_out_of_range_and_unknown_names_are_usage_errors(sg, args, words):
    one_line_error(sg(*args), words)
    assert sg("stock", "--json").json() == {"items": []}
    assert [w["code"] for w in sg("warehouses", "list", "--json").json()["warehouses"]] == ["MF", "EAST", "WEST"]


def test_the_largest_quantity_is_accepted(sg):
    assert sg("set", "A1", "MF", "2000000000").code == 0
    assert sg("stock", "A1", "--json").json()["items"][0]["warehouses"] == {"MF": 2_000_000_000}


def test_a_template_to_an_existing_folder_is_refused_and_leaves_no_temporary_file(sg, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    one_line_error(sg("template", "-o", str(folder)), f"{folder}: is a folder")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_ingest_of_a_folder_a_fifo_or_a_path_through_a_file_is_a_usage_error(sg, tmp_path):
    one_line_error(sg("ingest", str(tmp_path)), f"{tmp_path}: not a regular file")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    one_line_error(sg("ingest", str(fifo), "--warehouse", "EAST"), f"{fifo}: not a regular file")
    plain = tmp_path / "plain.csv"
    plain.write_text("SKU,Qty\nA1,1\n")
    one_line_error(sg("ingest", str(plain / "x.csv")), f"{plain / 'x.csv'}: cannot read: Not a directory")
    assert sg("history", "--json").json()["files"] == []


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads any file")
def test_ingest_of_an_unreadable_file_is_a_usage_error(sg, tmp_path):
    locked = tmp_path / "locked.csv"
    locked.write_text("SKU,Qty\nA1,1\n")
    locked.chmod(0)
    one_line_error(sg("ingest", str(locked), "--warehouse", "EAST"), f"{locked}: cannot read: Permission denied")


def test_ingest_reads_the_sheet_named_with_sheet(sg, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = "Notes"
    workbook.active.append(["nothing to read here"])
    stock = workbook.create_sheet("Stock")
    stock.append(["SKU", "Qty"])
    stock.append(["A1", 7])
    path = tmp_path / "east.xlsx"
    workbook.save(path)
    result = sg("ingest", str(path), "--warehouse", "EAST", "--sheet", "Stock", "--create-unknown-skus", "--json")
    assert result.code == 0, result
    assert result.json()["rows"]["applied"] == 1
    assert sg("stock", "A1", "--json").json()["items"][0]["warehouses"] == {"EAST": 7}


def test_a_delta_that_would_pass_the_quantity_limit_fails_its_row_only(sg, tmp_path):
    sg("set", "A1", "EAST", "1999999999")
    sg("set", "A2", "EAST", "5")
    path = tmp_path / "delta.csv"
    path.write_text("SKU,Qty\nA1,+5\nA2,+5\n")
    result = sg("ingest", str(path), "--warehouse", "EAST", "--mode", "delta", "--json")
    report = result.json()
    assert (result.code, report["status"]) == (3, "applied_with_errors"), result
    assert [(i["row"], i["code"]) for i in report["issues"]] == [(2, "QUANTITY_TOO_LARGE")]
    assert "1,999,999,999 +5 would be 2,000,000,004" in report["issues"][0]["message"]
    levels = {i["sku"]: i["warehouses"] for i in sg("stock", "--json").json()["items"]}
    assert levels == {"A1": {"EAST": 1_999_999_999}, "A2": {"EAST": 10}}


def test_a_held_file_reports_nothing_applied_and_tells_what_release_would_do(sg, tmp_path):
    for sku in ("A1", "A2", "A3", "A4"):
        sg("set", sku, "WEST", "5")
    path = tmp_path / "west.csv"
    path.write_text("SKU,Qty\nA1,6\n")
    result = sg("ingest", str(path), "--warehouse", "WEST", "--mode", "full", "--json")
    report = result.json()
    assert (result.code, report["status"]) == (4, "held")
    assert report["rows"] == {"total": 1, "applied": 0, "unchanged": 0, "errors": 0, "warnings": 0}
    assert report["changes"] == {"increased": 0, "decreased": 0, "zeroed": 0}
    message = report["issues"][0]["message"]
    assert "would zero 3 of 4 stocked SKUs" in message
    assert "if released: 1 rows would apply (1 increased, 0 decreased, 3 zeroed)" in message
    history = sg("history", "--json").json()["files"][0]
    assert (history["status"], history["rows"]["applied"]) == ("held", 0)
    assert "rows: 1 total, 0 applied" in sg("report", report["file_id"]).out
    released = sg("release", report["file_id"], "--json").json()
    assert released["rows"]["applied"] == 1 and released["changes"]["zeroed"] == 3


@pytest.mark.parametrize("extra, words", [
    (("--marketplace", "amazn", "--where", "marketplace"), "invalid choice: 'amazn'"),
    (("--marketplace", "ebay", "--where", "marketplace", "--cancelled-at", "2026-01-01T00:00:00Z"),
     "is earlier than --placed-at"),
    (("--marketplace", "ebay", "--where", "marketplace", "--choice", "keep"),
     "--choice only applies to cancellations made in StockGate"),
])
def test_restore_decision_refuses_impossible_questions(stockgate, extra, words):
    args = ["restore-decision", "--policy", "smart", "--placed-at", "2026-02-01T00:00:00Z"]
    if "--cancelled-at" not in extra:
        args += ["--cancelled-at", "2026-02-01T01:00:00Z"]
    one_line_error(stockgate(*args, *extra), words)


def test_restore_decision_accepts_other_as_a_marketplace(stockgate):
    result = stockgate("restore-decision", "--marketplace", "other", "--policy", "always", "--where", "marketplace",
                       "--placed-at", "2026-02-01T00:00:00Z", "--cancelled-at", "2026-02-01T01:00:00Z", "--json")
    assert result.code == 0 and result.json()["restore"] is True
