"""The Bulk Upload History's filters, paging and CSV export: the service the CLI, the page and the API share,
and `stockgate history` with the same filters."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from pipeline_helpers import ingest, seed

from gateway.errors import NotFoundError, UsageError
from gateway.intake import Delivery, receive_file
from gateway.pipeline.history import history_csv, history_filter, history_page


@pytest.fixture
def received(sg, db, data_dir, tmp_path):
    """Five received files from different senders (not processed: the history lists them as received)."""
    sg("init")
    path = tmp_path / "body.csv"
    ids = {}
    for n, (name, transport, account) in enumerate([
            ("east-morning.csv", "ftp", "erp"), ("east-evening.csv", "ftp", "erp"), ("West_100%.csv", "ftp", "wms"),
            ("upload.xlsx", "web", None), ("manual_fix.csv", "cli", None)]):
        path.write_bytes(f"SKU,MF\nA{n},1\n".encode())
        ids[name] = receive_file(db, data_dir, Delivery(name=name, transport=transport, account=account), path)
    return ids


def _names(db, page=1, per_page=50, **filters) -> list[str]:
    with db.read() as conn:
        return [f["name"] for f in history_page(conn, history_filter(**filters), page=page, per_page=per_page)["files"]]


def test_the_history_filters_by_transport_account_name_and_dates_newest_first(db, received):
    assert _names(db, transport="ftp") == ["West_100%.csv", "east-evening.csv", "east-morning.csv"]
    assert _names(db, account="ERP") == ["east-evening.csv", "east-morning.csv"]   # a login in any case
    assert _names(db, name="EAST") == ["east-evening.csv", "east-morning.csv"]
    assert _names(db, name="100%") == ["West_100%.csv"]     # `%` is a character of the name, not a wildcard
    assert _names(db, name="e_e") == []     # nor `_` (it would match "eve" of east-evening)
    assert _names(db, transport="ftp", account="wms") == ["West_100%.csv"]
    today = datetime.now(UTC).date()
    assert len(_names(db, since=str(today), until=str(today))) == 5   # a date alone: the whole day
    assert _names(db, until=str(today - timedelta(days=1))) == []
    assert _names(db, since=str(today + timedelta(days=1))) == []
    assert _names(db, status="applied") == []


def test_a_page_of_the_history_says_how_many_files_and_pages_there_are(db, received):
    with db.read() as conn:
        second = history_page(conn, history_filter(), page=2, per_page=2)
        assert (second["total"], second["pages"], second["page"]) == (5, 3, 2)
        assert [f["name"] for f in second["files"]] == ["West_100%.csv", "east-evening.csv"]
        assert [f["name"] for f in history_page(conn, history_filter(), page=3, per_page=2)["files"]] == [
            "east-morning.csv"]
        with pytest.raises(UsageError, match="page 4 does not exist: 5 files make 3 pages of 2"):
            history_page(conn, history_filter(), page=4, per_page=2)


def test_bad_filters_are_refused_naming_the_value(db, received):
    for bad, message in [({"status": "done"}, "status 'done' is not one of"),
                         ({"transport": "fax"}, "transport 'fax' is not one of"),
                         ({"since": "last week"}, "since 'last week' is not a date"),
                         ({"since": "2026-12-02", "until": "2026-12-01T00:00:00Z"}, "ends .* before it starts")]:
        with pytest.raises(UsageError, match=message):
            history_filter(**bad)
    with db.read() as conn, pytest.raises(NotFoundError, match=r"unknown warehouse 'north' \(known: MF, EAST, WEST\)"):
        history_page(conn, history_filter(warehouse="north"))


def test_the_csv_export_holds_every_matching_file_across_batches(db, received, monkeypatch):
    monkeypatch.setattr("gateway.pipeline.history.CSV_BATCH", 2)   # five files: three batches
    text = "".join(history_csv(db, history_filter(transport="ftp")))
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [(r["name"], r["account"], r["status"]) for r in rows] == [
        ("West_100%.csv", "wms", "received"), ("east-evening.csv", "erp", "received"),
        ("east-morning.csv", "erp", "received")]
    every = list(csv.DictReader(io.StringIO("".join(history_csv(db, history_filter(), bom=False)))))
    assert len(every) == 5


def test_a_file_name_a_spreadsheet_would_run_is_neutralised_in_the_csv(sg, db, data_dir, tmp_path):
    sg("init")
    path = tmp_path / "x.csv"
    path.write_bytes(b"SKU,MF\nA1,1\n")
    receive_file(db, data_dir, Delivery(name="=HYPERLINK(1).csv", transport="web"), path)
    rows = list(csv.reader(io.StringIO("".join(history_csv(db, history_filter(), bom=False)))))
    assert rows[1][2] == "'=HYPERLINK(1).csv"


def test_stockgate_history_takes_the_same_filters_pages_and_csv(sg, files):
    seed(sg, "A1 MF 1", "A1 EAST 1")
    ingest(sg, files.csv("one.csv", "SKU,MF\nA1,4\n"))
    ingest(sg, files.csv("two.csv", "SKU,Qty\nA1,2\n"), "--warehouse", "EAST")
    ingest(sg, files.csv("three.csv", "SKU,Qty\nA1,3\n"), "--warehouse", "EAST")
    page = sg("history", "--transport", "cli", "--name", "T", "--limit", "1", "--page", "2", "--json").json()
    assert ([f["name"] for f in page["files"]], page["total"], page["pages"]) == (["two.csv"], 2, 2)
    out = sg("history", "--warehouse", "east", "--csv").out
    assert [r["name"] for r in csv.DictReader(io.StringIO(out))] == ["three.csv", "two.csv"]
    assert "page 1 of 3 (3 files" in sg("history", "--limit", "1").out
    refused = sg("history", "--since", "soon")
    assert refused.code == 2 and "since 'soon' is not a date" in refused.err
    assert sg("history", "--page", "9").code == 2
