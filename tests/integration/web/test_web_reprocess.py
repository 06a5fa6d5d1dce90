"""The report page: its JSON shown in the browser with a separate download link, and a Reprocess action
(a CSRF-protected post, like `stockgate reprocess`); the template downloaded and uploaded unchanged."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from web_client import ingest

from gateway.db import schema
from gateway.pipeline import process_next
from gateway.stock import stock_view


def on_hand(app, sku: str) -> dict[str, int]:
    with app.db.read() as conn:
        found = stock_view(conn, [sku])
    return found[0]["warehouses"] if found else {}


def file_ids(app) -> list[str]:
    with app.db.read() as conn:
        return list(conn.execute(select(schema.files.c.file_id).order_by(schema.files.c.seq)).scalars())


def test_the_report_json_opens_in_the_browser_and_the_page_links_a_separate_download(site, stockgate, tmp_path):
    _, _, browser = site()
    file_id = ingest(stockgate, tmp_path, "qu.csv", "SKU,MF\nA1,1\n")["file_id"]

    shown = browser.get(f"/files/{file_id}/report.json")
    saved = browser.get(f"/files/{file_id}/report.json?download=1")
    page = browser.get(f"/files/{file_id}")

    assert shown.status == 200 and shown.header("Content-Type").startswith("application/json")
    assert shown.header("Content-Disposition").startswith("inline;")
    assert saved.header("Content-Disposition").startswith("attachment;")
    assert json.loads(shown.body) == json.loads(saved.body) == stockgate("report", file_id, "--format", "json").json()
    assert f'href="/files/{file_id}/report.json"' in page.text
    assert f'href="/files/{file_id}/report.json?download=1"' in page.text


def test_reprocess_from_the_report_page_runs_the_file_again_as_a_new_linked_file(site, stockgate, tmp_path):
    woken: list[str] = []
    app, _, browser = site(on_received=woken.append)
    stockgate("set", "A1", "EAST", "1")
    first = ingest(stockgate, tmp_path, "east.csv", "SKU,Qty\nA1,5\nN1,7\n", "--warehouse", "EAST")
    assert first["status"] == "applied_with_errors"
    page = browser.get(f"/files/{first['file_id']}")
    assert f'action="/files/{first["file_id"]}/reprocess"' in page.text

    answer = browser.post(f"/files/{first['file_id']}/reprocess",
                          {"csrf_token": page.csrf_token(), "mode": "", "create_unknown_skus": "1"})

    new_id = file_ids(app)[-1]
    assert answer.status == 303 and answer.header("Location") == f"/files/{new_id}" and woken == [new_id]
    assert process_next(app.db, app.settings, worker_id="t") == new_id
    assert on_hand(app, "N1") == {"EAST": 7}
    rerun = browser.get(f"/files/{new_id}")
    assert "applied" in rerun.text and re.search(r"Re-run of\s*</dt><dd><a href=\"/files/" + first["file_id"],
                                                 rerun.text)
    assert json.loads(browser.get(f"/files/{new_id}/report.json").body)["forced_from"] == first["file_id"]
    original = browser.get(f"/files/{first['file_id']}").visible_text
    assert f"Processed again as {new_id} (applied)" in " ".join(original.split())


def test_reprocess_without_the_forms_token_is_refused_and_nothing_is_received(site, stockgate, tmp_path):
    app, _, browser = site()
    first = ingest(stockgate, tmp_path, "east.csv", "SKU,Qty\nN1,7\n", "--warehouse", "EAST")
    browser.get(f"/files/{first['file_id']}")   # a session, but the token is not sent

    answer = browser.post(f"/files/{first['file_id']}/reprocess", {"create_unknown_skus": "1"})

    assert answer.status == 403 and file_ids(app) == [first["file_id"]]


def test_reprocess_that_would_count_movements_twice_is_refused_with_the_reason(site, stockgate, tmp_path):
    app, _, browser = site()
    stockgate("set", "A1", "EAST", "10")
    first = ingest(stockgate, tmp_path, "moves.csv", "SKU,Qty\nA1,-3\n", "--warehouse", "EAST", "--mode", "delta")
    token = browser.get(f"/files/{first['file_id']}").csrf_token()

    answer = browser.post(f"/files/{first['file_id']}/reprocess", {"csrf_token": token, "mode": ""})

    assert answer.status == 409 and "count them twice" in answer.visible_text
    assert file_ids(app) == [first["file_id"]] and on_hand(app, "A1") == {"EAST": 7}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_template_downloaded_and_uploaded_unchanged_applies_with_every_row_unchanged(site, stockgate, tmp_path,
                                                                                        fmt):
    app, _, browser = site()
    skus = ["00123", "=SUM(1+1)", "Ünï", "1234567890123456789", "2024-01-02"]
    for n, sku in enumerate(skus, 1):
        stockgate("set", sku, "EAST", str(n))
    titled = "SKU,Title,MF\n" + "".join(f'"{sku}","{sku} title",\n' for sku in skus)
    assert ingest(stockgate, tmp_path, "titles.csv", titled)["status"] == "applied"

    template = browser.get(f"/template.{fmt}")
    token = browser.get("/upload").csrf_token()
    answer = browser.upload("/upload", {"csrf_token": token, "warehouse": ""}, f"template.{fmt}", template.body)
    assert answer.status == 303
    new_id = file_ids(app)[-1]
    assert process_next(app.db, app.settings, worker_id="t") == new_id

    report = json.loads(browser.get(f"/files/{new_id}/report.json").body)
    assert report["status"] == "applied" and report["issues"] == []
    assert report["rows"] == {"total": 5, "applied": 0, "unchanged": 5, "errors": 0, "warnings": 0}
    with app.db.read() as conn:
        titles = dict(conn.execute(select(schema.items.c.sku, schema.items.c.title)).all())
    assert titles == {sku: f"{sku} title" for sku in skus}
