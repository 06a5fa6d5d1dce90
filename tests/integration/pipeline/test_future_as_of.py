"""A file from the future (its name, `as_of` column or `--as-of` later than its receipt by more than
`[files] future_as_of_skew_seconds`) is rejected as FUTURE_AS_OF and never makes later files stale; a
warehouse whose mark an older version let a future file set is not stuck behind it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline_helpers import WAREHOUSES_TOML, codes, ingest, stock


def _later(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_file_named_with_a_future_time_is_rejected_naming_both_times_and_later_files_apply(sg, files):
    code, report = ingest(sg, files.csv("stock_20991231T235959Z.csv", "SKU,Qty\nA1,5\n"), "--warehouse", "EAST")
    assert (code, report["status"], codes(report)) == (4, "rejected", ["FUTURE_AS_OF"])
    message = report["issues"][0]["message"]
    assert "2099-12-31T23:59:59+00:00" in message and report["received_at"] in message
    assert "the timestamp in its name" in message and "10 minutes" in message
    assert "A1" not in stock(sg)

    code, report = ingest(sg, files.csv("east.csv", "SKU,Qty\nA1,7\n"), "--warehouse", "EAST",
                          "--create-unknown-skus")
    assert (code, report["status"]) == (0, "applied"), report
    assert stock(sg)["A1"] == {"EAST": 7}


def test_a_future_as_of_option_or_column_is_rejected_beyond_the_skew_and_accepted_within_it(sg, files):
    path = files.csv("a.csv", "SKU,Qty\nA1,5\n")
    _code, report = ingest(sg, path, "--warehouse", "EAST", "--as-of", _later(hours=1), "--create-unknown-skus")
    assert codes(report) == ["FUTURE_AS_OF"] and "the time given with it (--as-of" in report["issues"][0]["message"]
    _code, report = ingest(sg, path, "--warehouse", "EAST", "--as-of", _later(minutes=5), "--create-unknown-skus")
    assert report["status"] == "applied", report

    column = files.csv("c.csv", f"SKU,Qty,as_of\nA1,9,{_later(days=2)}\n")
    _code, report = ingest(sg, column, "--warehouse", "EAST")
    assert codes(report) == ["FUTURE_AS_OF"] and "its as_of column" in report["issues"][0]["message"]
    assert stock(sg)["A1"] == {"EAST": 5}


def test_the_skew_is_configurable(sg, files, write_config):
    sg("stock", config=write_config(WAREHOUSES_TOML + "\n[files]\nfuture_as_of_skew_seconds = 7200\n"))
    path = files.csv("a.csv", "SKU,Qty\nA1,5\n")
    _code, report = ingest(sg, path, "--warehouse", "EAST", "--as-of", _later(hours=1), "--create-unknown-skus")
    assert report["status"] == "applied", report
    _code, report = ingest(sg, files.csv("b.csv", "SKU,Qty\nA1,6\n"), "--warehouse", "EAST",
                           "--as-of", _later(hours=3))
    assert codes(report) == ["FUTURE_AS_OF"] and "120 minutes" in report["issues"][0]["message"]


def test_a_database_holding_an_applied_future_file_is_not_wedged(sg, files, write_config):
    # Before FUTURE_AS_OF, nothing limited as_of: with an unlimited skew the future file applies and
    # sets EAST's mark to 2099, the state such a database is in after the upgrade.
    sg("stock", config=write_config(WAREHOUSES_TOML + "\n[files]\nfuture_as_of_skew_seconds = 3e9\n"))
    _code, report = ingest(sg, files.csv("stock_20991231T235959Z.csv", "SKU,Qty\nA1,5\n"), "--warehouse", "EAST",
                           "--create-unknown-skus")
    assert report["status"] == "applied", report
    future_received = report["received_at"]
    sg("stock", config=write_config(WAREHOUSES_TOML))   # the upgraded default

    _code, report = ingest(sg, files.csv("east.csv", "SKU,Qty\nA1,7\n"), "--warehouse", "EAST")
    assert report["status"] == "applied", report
    assert stock(sg)["A1"] == {"EAST": 7}
    newest = report["as_of"]

    # the mark is now the new file's as_of: a snapshot older than it is stale again, a newer one applies
    _code, report = ingest(sg, files.csv("old.csv", "SKU,Qty\nA1,1\n"), "--warehouse", "EAST",
                           "--as-of", future_received)
    assert codes(report) == ["STALE_FILE"] and newest in report["issues"][0]["message"]
    _code, report = ingest(sg, files.csv("new.csv", "SKU,Qty\nA1,8\n"), "--warehouse", "EAST")
    assert report["status"] == "applied", report
    assert stock(sg)["A1"] == {"EAST": 8}
