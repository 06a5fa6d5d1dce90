"""The files room's JSON API against a real uvicorn: the history's filters and pages as `stockgate history
--json` prints them, a held file released and another rejected, a reprocess, an upload (multipart with its
header) received or dry-run, and the template."""

from __future__ import annotations

import json

from web_client import ingest

from gateway.intake import Delivery, receive_bytes


def send_json(browser, path: str, body: dict | None = None) -> tuple[int, dict]:
    page = browser.request("POST", path, json.dumps(body or {}).encode(), {"Content-Type": "application/json"})
    return page.status, json.loads(page.body)


def held(stockgate, tmp_path, name: str, quantity: int = 6) -> str:
    report = ingest(stockgate, tmp_path, name, f"SKU,Qty\nA1,{quantity}\n", "--warehouse", "WEST", "--mode", "full")
    assert report["status"] == "held", report
    return report["file_id"]


def test_the_api_history_takes_the_clis_filters_and_answers_the_same_page(site, stockgate, tmp_path):
    app, _, browser = site()
    stockgate("set", "A1", "EAST", "1")
    ingest(stockgate, tmp_path, "one.csv", "SKU,Qty\nA1,2\n", "--warehouse", "EAST")
    ingest(stockgate, tmp_path, "two.csv", "SKU,Qty\nA1,3\n", "--warehouse", "EAST")
    receive_bytes(app.db, app.settings.data_dir, Delivery("web.csv", "web"), b"SKU,MF\nA1,1\n")

    page = json.loads(browser.get("/api/v1/files?transport=cli&name=O&per_page=1&page=2").body)
    cli = stockgate("history", "--transport", "cli", "--name", "O", "--limit", "1", "--page", "2", "--json").json()
    bad = browser.get("/api/v1/files?until=2026-01-01&since=2026-02-01")
    export = browser.get("/api/v1/files.csv?transport=web")

    assert page == cli and [f["name"] for f in page["files"]] == ["one.csv"]
    assert (page["total"], page["pages"], page["has_more"]) == (2, 2, False)
    assert bad.status == 400 and "ends" in json.loads(bad.body)["detail"]
    assert export.body.decode("utf-8-sig").splitlines()[1].split(",")[2] == "web.csv"


def test_a_held_file_is_released_and_another_rejected_through_the_api(site, stockgate, tmp_path):
    _, _, browser = site()
    for sku in ("A1", "A2", "A3"):
        stockgate("set", sku, "WEST", "5")
    first = held(stockgate, tmp_path, "first.csv")
    preview = json.loads(browser.get(f"/api/v1/files/{first}/preview").body)
    status, released = send_json(browser, f"/api/v1/files/{first}/release")
    assert preview["as_released"] and [(c["sku"], c["after"]) for c in preview["changes"]] == [
        ("A1", 6), ("A2", 0), ("A3", 0)]
    assert (status, released["status"]) == (200, "applied")
    assert stockgate("stock", "--json").json()["items"][1]["warehouses"] == {"WEST": 0}

    for sku in ("A2", "A3"):
        stockgate("set", sku, "WEST", "5")
    second = held(stockgate, tmp_path, "second.csv", 8)
    status, rejected = send_json(browser, f"/api/v1/files/{second}/reject", {"reason": "not tonight"})
    again = send_json(browser, f"/api/v1/files/{second}/release")
    detail = json.loads(browser.get(f"/api/v1/files/{second}").body)

    assert (status, rejected["status"]) == (200, "rejected")
    assert rejected["issues"][-1]["message"] == "rejected by web:local while held: not tonight; nothing applied"
    assert rejected == stockgate("report", second, "--format", "json").json()
    assert again[0] == 409 and "only a held file can be released" in again[1]["detail"]
    assert detail["actions"] == {"release": False, "reject": False, "reprocess": True, "preview": False}
    assert stockgate("stock", "A2", "--json").json()["items"][0]["warehouses"] == {"WEST": 5}
    actions = [(e["action"], e["actor"]) for e in stockgate("audit", "--json").json()["entries"]]
    assert ("file.release", "web:local") in actions and ("file.reject", "web:local") in actions


def test_a_reprocess_through_the_api_receives_a_linked_file(site, stockgate, tmp_path):
    received = []
    _, _, browser = site(on_received=received.append)
    first = ingest(stockgate, tmp_path, "east.csv", "SKU,Qty\nN1,7\n", "--warehouse", "EAST")

    status, answer = send_json(browser, f"/api/v1/files/{first['file_id']}/reprocess", {"create_unknown_skus": True})
    bad_mode = send_json(browser, f"/api/v1/files/{first['file_id']}/reprocess", {"mode": "weekly"})

    assert status == 202 and answer["forced_from"] == first["file_id"] and received == [answer["file_id"]]
    assert bad_mode[0] == 422


def test_an_upload_through_the_api_needs_its_header_and_is_received_or_dry_run(site, stockgate):
    received = []
    _, _, browser = site(on_received=received.append)
    stockgate("set", "A1", "EAST", "2")
    header = {"X-StockGate-Upload": "1"}

    dry = browser.upload("/api/v1/uploads", {"warehouse": "east", "dry_run": "true"}, "e.csv", b"SKU,Qty\nA1,9\n",
                         header)
    done = browser.upload("/api/v1/uploads", {"warehouse": "EAST"}, "e.csv", b"SKU,Qty\nA1,9\n", header)
    no_header = browser.upload("/api/v1/uploads", {}, "e.csv", b"SKU,Qty\nA1,9\n")
    unknown = browser.upload("/api/v1/uploads", {"warehouse": "NORTH"}, "e.csv", b"SKU,Qty\nA1,9\n", header)

    preview = json.loads(dry.body)["preview"]
    assert dry.status == 201 and json.loads(dry.body)["file_id"] is None
    assert preview["changes"] == [{"sku": "A1", "warehouse": "EAST", "before": 2, "after": 9, "row": 2}]
    assert done.status == 201 and received == [json.loads(done.body)["file_id"]]
    assert no_header.status == 403 and unknown.status == 400
    assert stockgate("history", "--json").json()["total"] == 1


def test_the_api_template_has_the_warehouses_asked_for(site, stockgate):
    _, _, browser = site()
    stockgate("set", "A1", "WEST", "7")

    template = browser.get("/api/v1/templates?format=csv&warehouse=WEST")

    assert template.status == 200 and template.body.decode("utf-8-sig").splitlines() == ["SKU,Title,WEST", "A1,,7"]
    assert browser.get("/api/v1/templates?warehouse=NORTH").status == 400
