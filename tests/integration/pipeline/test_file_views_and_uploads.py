"""The services behind the file report page and the Upload page: a file's detail and its issues a page at
a time, its stored original, and uploads (received, or dry-run with each SKU's before and after)."""

from __future__ import annotations

import dataclasses

import pytest
from openpyxl import Workbook
from pipeline_helpers import seed, stock

from gateway.errors import NotFoundError, UsageError
from gateway.pipeline import process_in_turn
from gateway.pipeline.file_views import file_detail, issues_page, stored_original
from gateway.pipeline.uploads import FileTooLargeError, upload
from gateway.settings import load_settings


def file_audit(sg) -> list[dict]:
    """The audit log's entries about files (the set-up's `stockgate set` writes stock.set entries too)."""
    return [e for e in sg("audit", "--json").json()["entries"] if e["action"].startswith("file.")]


@pytest.fixture
def settings(sg, tmp_path):
    sg("history")   # `sg` has written and initialised the test's config
    return load_settings(tmp_path / "stockgate.toml")


def _xlsx(tmp_path, sheets: dict[str, list[list]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / "upload.xlsx"
    workbook.save(path)
    return path.read_bytes()


def test_a_dry_run_upload_of_a_chosen_sheet_lists_before_and_after_and_records_nothing(sg, db, settings, tmp_path):
    seed(sg, "A1 WEST 2")
    data = _xlsx(tmp_path, {"Notes": [["read me"]], "Stock": [["SKU", "Qty"], ["A1", 9], ["B2", 4]]})
    result = upload(db, settings, name="upload.xlsx", data=data, actor="web:ops", warehouse="west", mode="partial",
                    sheet="Stock", create_unknown_skus=True, dry_run=True)
    assert result.file_id is None
    assert [c.as_dict() for c in result.preview.changes] == [
        {"sku": "A1", "warehouse": "WEST", "before": 2, "after": 9, "row": 2},
        {"sku": "B2", "warehouse": "WEST", "before": None, "after": 4, "row": 3}]
    assert stock(sg) == {"A1": {"WEST": 2}}
    assert sg("history", "--json").json()["total"] == 0 and file_audit(sg) == []


def test_an_upload_is_received_as_a_web_file_audited_and_its_original_kept(sg, db, settings, tmp_path):
    seed(sg, "A1 EAST 1")
    data = b"SKU,Qty\nA1,5\nA1,6\nZZ,1\n"
    result = upload(db, settings, name="C:\\Users\\ops\\east.csv", data=data, actor="web:ops", warehouse="EAST",
                    as_of="2026-01-02T03:04:05Z")
    (entry,) = file_audit(sg)
    assert (entry["actor"], entry["action"], entry["target"]) == ("web:ops", "file.upload", result.file_id)
    assert entry["detail"]["name"] == "east.csv"
    report = process_in_turn(db, settings, result.file_id)
    assert (report.document["transport"], report.document["as_of"]) == ("web", "2026-01-02T03:04:05+00:00")
    with db.read() as conn:
        original = stored_original(conn, result.file_id)
        detail = file_detail(conn, result.file_id)
        first = issues_page(conn, result.file_id, page=1, per_page=2)
        errors = issues_page(conn, result.file_id, severity="error")
    assert original.path.read_bytes() == data and original.name == "east.csv"
    assert detail["status"] == report.status and detail["issue_count"] == first["total"] == 3
    assert detail["actions"] == {"release": False, "reject": False, "reprocess": True, "preview": False}
    assert (first["pages"], len(first["issues"])) == (2, 2)
    assert {i["code"] for i in errors["issues"]} == {"DUPLICATE_SKU", "UNKNOWN_SKU"}
    with db.read() as conn, pytest.raises(UsageError, match="page 3 does not exist: the file has 3 issues"):
        issues_page(conn, result.file_id, page=3, per_page=2)


def test_a_held_file_offers_release_reject_and_preview(sg, db, settings, files):
    seed(sg, "A1 WEST 5", "A2 WEST 5", "A3 WEST 5")
    file_id = upload(db, settings, name="west.csv", data=b"SKU,Qty\nA1,6\n", actor="web:ops", warehouse="WEST",
                     mode="full").file_id
    assert process_in_turn(db, settings, file_id).status == "held"
    with db.read() as conn:
        assert file_detail(conn, file_id)["actions"] == {"release": True, "reject": True, "reprocess": True,
                                                         "preview": True}


@pytest.mark.parametrize("choices, error, message", [
    ({"name": ""}, UsageError, "choose a file to upload"),
    ({"mode": "weekly", "warehouse": "EAST"}, UsageError, "mode 'weekly' is not one of partial, full, delta"),
    ({"mode": "full"}, UsageError, "a mode applies to stock files: choose their warehouse"),
    ({"warehouse": "NORTH"}, NotFoundError, r"unknown warehouse 'NORTH' \(known: MF, EAST, WEST\)"),
    ({"warehouse": "EAST", "as_of": "tuesday"}, UsageError, "as-of 'tuesday' is not an ISO-8601 time"),
])
def test_a_bad_upload_choice_is_refused_naming_it_and_nothing_is_received(sg, db, settings, choices, error, message):
    with pytest.raises(error, match=message):
        upload(db, settings, **{"name": "x.csv", "data": b"SKU,Qty\nA1,1\n", "actor": "web:ops", **choices})
    assert sg("history", "--json").json()["total"] == 0


def test_an_upload_over_the_size_limit_is_refused(sg, db, settings):
    settings = dataclasses.replace(settings, files=dataclasses.replace(settings.files, max_file_mb=1))
    big = b"SKU,Qty\n" + b"A1,1\n" * (1024 * 1024 // 5 + 1)
    with pytest.raises(FileTooLargeError, match="1,048,58. bytes is over the limit of 1 MB"):
        upload(db, settings, name="big.csv", data=big, actor="web:ops")
    assert sg("history", "--json").json()["total"] == 0


def test_an_unknown_file_has_no_detail_issues_or_original(sg, db):
    with db.read() as conn:
        for view in (file_detail, issues_page, stored_original):
            with pytest.raises(NotFoundError, match="no file 'f_nope'"):
                view(conn, "f_nope")
