"""The JSON API under /api/v1/ against a real uvicorn on loopback: the same files, reports and stock as the
CLI's --json, errors as {"detail"}, a login asked for off loopback, and an OpenAPI document with its docs
page served from local files only."""

from __future__ import annotations

import json
import re

from web_client import ingest

from gateway.intake import Delivery, receive_bytes
from gateway.passwords import hash_password

PASSWORD = "correct horse battery staple"
LOGIN_TOML = f'[web]\nhost = "0.0.0.0"\nport = 0\nusername = "ops"\npassword_hash = "{hash_password(PASSWORD)}"\n'
HOSTILE_QU = "SKU,Title,MF,EAST\nA1,Widget,5,3\n<script>alert(1)</script>,x,1,1\n{{7*7}},y,2,2\n"


def get_json(browser, path: str) -> tuple[int, object]:
    page = browser.get(path)
    assert page.header("Content-Type") == "application/json", (path, page.header("Content-Type"))
    return page.status, json.loads(page.body)


def test_the_api_lists_the_upload_history_and_a_files_report_as_the_cli_prints_them(site, stockgate, tmp_path):
    _, _, browser = site()
    stockgate("set", "A1", "MF", "1")
    first = ingest(stockgate, tmp_path, "first.csv", "SKU,MF\nA1,4\n")
    second = ingest(stockgate, tmp_path, "second.csv", HOSTILE_QU)

    status, listed = get_json(browser, "/api/v1/files")
    _, by_status = get_json(browser, "/api/v1/files?status=applied_with_errors")
    _, detail = get_json(browser, f"/api/v1/files/{second['file_id']}")
    _, report = get_json(browser, f"/api/v1/files/{second['file_id']}/report")

    cli = stockgate("history", "--json").json()["files"]
    assert status == 200 and listed["page"] == 1 and listed["has_more"] is False
    assert [f["file_id"] for f in listed["files"]] == [second["file_id"], first["file_id"]]
    assert [{k: f[k] for k in cli[0]} for f in listed["files"]] == cli
    assert [f["file_id"] for f in by_status["files"]] == [second["file_id"]]
    assert report == stockgate("report", second["file_id"], "--format", "json").json()
    assert detail["issue_count"] == 2 and [i["sku"] for i in detail["issues"]] == ["<script>alert(1)</script>",
                                                                                   "{{7*7}}"]
    assert detail["report"] == report and detail["rows"] == {"total": 3, "applied": 1, "errors": 2, "warnings": 0}


def test_the_api_stock_holds_the_same_figures_as_stockgate_stock(site, stockgate):
    _, _, browser = site()
    for sku, warehouse, qty in [("A1", "MF", 5), ("A1", "EAST", 3), ("A1", "WEST", 7), ("x/y", "EAST", 2),
                                ("00123", "MF", 1200)]:
        stockgate("set", sku, warehouse, str(qty))

    _, every = get_json(browser, "/api/v1/stock")
    _, found = get_json(browser, "/api/v1/stock?q=a")
    _, one = get_json(browser, "/api/v1/stock/x/y")

    cli = stockgate("stock", "--json").json()["items"]
    assert [{k: v for k, v in i.items() if k != "title"} for i in every["items"]] == cli   # and each item's title
    assert every["warehouses"] == ["MF", "EAST", "WEST"] and every["next_after"] is None
    assert [i["sku"] for i in found["items"]] == ["A1"]
    assert found["items"][0] == {"sku": "A1", "title": None, "warehouses": {"EAST": 3, "WEST": 7, "MF": 5},
                                 "available": 8}
    assert {k: one[k] for k in ("sku", "warehouses", "available")} == {"sku": "x/y", "warehouses": {"EAST": 2},
                                                                       "available": 2}


def test_api_errors_are_json_naming_the_problem(site, stockgate, tmp_path):
    app, _, browser = site()
    waiting = receive_bytes(app.db, app.settings.data_dir, Delivery("wait.csv", "web"), b"SKU,MF\nA1,1\n")

    missing = get_json(browser, "/api/v1/files/20990101T000000-abcdef")
    unprocessed = get_json(browser, f"/api/v1/files/{waiting}/report")
    unknown_sku = get_json(browser, "/api/v1/stock/NOPE")
    bad_page = get_json(browser, "/api/v1/files?page=0")
    bad_status = get_json(browser, "/api/v1/files?status=<b>")
    bad_warehouse = get_json(browser, "/api/v1/files?warehouse=NOPE")
    no_route = get_json(browser, "/api/v1/nothing")

    assert missing == (404, {"detail": "no file '20990101T000000-abcdef' (see the upload history)"})
    assert unprocessed == (409, {"detail": f"file {waiting} is received: its report is written when it has been "
                                           f"processed"})
    assert unknown_sku == (404, {"detail": "StockGate has no item 'NOPE'"})
    assert bad_page[0] == 422 and bad_page[1]["detail"][0]["loc"] == ["query", "page"]
    assert bad_status[0] == 422 and bad_status[1]["detail"][0]["loc"] == ["query", "status"]
    assert bad_warehouse[0] == 400 and "unknown warehouse" in bad_warehouse[1]["detail"]
    assert no_route[0] == 404


def test_off_loopback_the_api_and_its_document_ask_for_a_login_then_answer(site):
    _, _, browser = site(LOGIN_TOML)

    before = [browser.get(path).status for path in ("/api/v1/files", "/api/v1/stock", "/openapi.json", "/docs")]
    browser.login("ops", PASSWORD)
    after = [browser.get(path).status for path in ("/api/v1/files", "/api/v1/stock", "/openapi.json", "/docs")]

    assert before == [401, 401, 303, 303]
    assert after == [200, 200, 200, 200]


def test_an_api_write_that_is_not_json_is_refused_before_any_route_in_json_as_its_document_says(site):
    _, _, browser = site()

    form = browser.post("/api/v1/files", {"status": "held"})
    bodyless = browser.request("POST", "/api/v1/channels/amz/push", b"")
    _, document = get_json(browser, "/openapi.json")

    for answer in (form, bodyless):
        assert answer.status == 415 and answer.header("Content-Type") == "application/json"
        assert json.loads(answer.body) == {"detail": "the API takes application/json"}
    writes = [(path, op) for path, item in document["paths"].items() for method, op in item.items() if method != "get"]
    assert writes and all({"401", "411", "413", "415"} <= set(op["responses"]) for _, op in writes), writes
    assert document["paths"]["/api/v1/files"]["get"]["responses"]["401"]["content"]["application/json"]


def test_off_loopback_the_api_asks_for_a_login_in_json(site):
    _, _, browser = site(LOGIN_TOML)

    answer = browser.get("/api/v1/stock")

    assert answer.status == 401 and answer.header("Content-Type") == "application/json"
    assert json.loads(answer.body) == {"detail": "log in first"}


def test_the_openapi_document_describes_the_api_and_its_docs_page_loads_only_files_served_here(site):
    _, _, browser = site()

    status, document = get_json(browser, "/openapi.json")
    docs = browser.get("/docs")

    assert status == 200 and document["openapi"].startswith("3.")
    assert {"/api/v1/files", "/api/v1/files/{file_id}", "/api/v1/files/{file_id}/report", "/api/v1/stock",
            "/api/v1/stock/{sku}"} <= set(document["paths"])
    assert not [p for p in document["paths"] if not p.startswith("/api/v1/")], "HTML pages are not in the API"
    assert docs.status == 200 and "swagger-ui" in docs.text
    assert not re.search(r"<script>|\son[a-z]+=|\sstyle=", docs.text), "no inline script (the CSP refuses it)"
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets and all(a.startswith("/static/") for a in assets), assets
    for asset in assets:
        answer = browser.get(asset)
        assert answer.status == 200 and len(answer.body) > 300, asset
    assert len(browser.get("/static/swagger-ui/swagger-ui-bundle.js").body) > 500_000


def test_an_upload_whose_file_is_sent_as_a_plain_field_is_a_422_naming_the_field(site):
    _, _, browser = site()
    boundary = "sgfield"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\nSKU,MF\r\n--{boundary}--\r\n').encode()

    answer = browser.request("POST", "/api/v1/uploads", body, {"Content-Type": f"multipart/form-data; boundary={boundary}",
                                                                "X-StockGate-Upload": "1"})

    assert answer.status == 422 and answer.header("Content-Type") == "application/json"
    assert [e["loc"] for e in json.loads(answer.body)["detail"]] == [["body", "file"]]
