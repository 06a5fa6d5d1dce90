"""The item page and its edits over real HTTP (`/item`, `/item/set`, `/item/adjust`, `/item/ledger.csv`) and
the same through `/api/v1/stock`: each edit writes what `stockgate set|adjust --note` writes, a refusal is a
message on the page, and user text shows literally."""

from __future__ import annotations

import csv
import io
import json

from web_client import evaluated_template

from gateway.accounts import audit
from gateway.stock import ledger_view, set_stock, stock_view
from gateway.stock.titles import store_titles


def _levels(app) -> dict[str, dict[str, int]]:
    with app.db.read() as conn:
        return {i["sku"]: i["warehouses"] for i in stock_view(conn)}


def _api(browser, method: str, path: str, body: dict | None = None):
    page = browser.request(method, path, json.dumps(body).encode() if body is not None else None,
                           {"Content-Type": "application/json"} if body is not None else {})
    return page.status, json.loads(page.body or b"null")


def test_setting_a_quantity_on_the_item_page_shows_its_ledger_entry_with_the_note(site):
    app, _, browser = site()
    with app.db.write() as conn:
        set_stock(conn, "A1", "MF", 5)
        set_stock(conn, "A1", "WEST", 2)
        store_titles(conn, {"A1": "Red hat"}, replace=True)
    page = browser.get("/item?sku=A1")
    assert page.status == 200 and "Red hat" in page.visible_text
    assert page.table_rows(0) == [["MF", "Merchant fulfilled", "yes", "5"], ["EAST", "EAST", "yes", "-"],
                                  ["WEST", "WEST", "no", "2"]]

    done = browser.post("/item/set", {"csrf_token": page.csrf_token(), "sku": "A1", "warehouse": "east",
                                      "quantity": "9", "note": "found a box in the back"})
    assert done.status == 303 and done.header("Location") == "/item?sku=A1&done=set"
    after = browser.get(done.header("Location"))
    assert "Quantity set" in after.visible_text
    newest = after.table_rows(2)[0]
    assert newest[1:] == ["EAST", "+9", "9", "manual", "web set by local", "found a box in the back"]
    assert _levels(app)["A1"] == {"MF": 5, "EAST": 9, "WEST": 2}
    with app.db.read() as conn:
        assert ledger_view(conn, "A1")[-1]["note"] == "found a box in the back"
    entry = audit.entries(app.db, action="stock.set")[0]
    assert (entry.actor, entry.target, entry.detail["after"]) == ("web:local", "A1@EAST", 9)


def test_an_adjustment_below_zero_is_refused_on_the_page_and_changes_nothing(site):
    app, _, browser = site()
    with app.db.write() as conn:
        set_stock(conn, "A1", "MF", 2)
    page = browser.get("/item?sku=A1")
    refused = browser.post("/item/adjust", {"csrf_token": page.csrf_token(), "sku": "A1", "warehouse": "MF",
                                            "delta": "-5", "note": "broken"})
    bad = browser.post("/item/adjust", {"csrf_token": page.csrf_token(), "sku": "A1", "warehouse": "MF",
                                        "delta": "2.5"})
    no_token = browser.post("/item/adjust", {"sku": "A1", "warehouse": "MF", "delta": "+1"})
    unknown = browser.post("/item/set", {"csrf_token": page.csrf_token(), "sku": "A1", "warehouse": "NOPE",
                                         "quantity": "1"})
    assert refused.status == 400 and "A1 in MF holds 2: cannot take 5 away" in refused.visible_text
    assert 'value="-5"' in refused.text                  # the form keeps what was typed
    assert bad.status == 400 and "2.5" in bad.visible_text
    assert no_token.status == 403
    assert unknown.status == 404 and "unknown warehouse 'NOPE'" in unknown.visible_text
    assert _levels(app)["A1"] == {"MF": 2}
    with app.db.read() as conn:
        assert len(ledger_view(conn, "A1")) == 1
    assert audit.entries(app.db, action="stock.adjust") == []


def test_a_sku_or_note_that_looks_like_markup_or_a_template_shows_literally(site):
    app, _, browser = site()
    for sku in ("<script>alert(1)</script>", "{{7*7}}"):
        with app.db.write() as conn:
            set_stock(conn, sku, "MF", 3, note="<b>bold</b> {{7*7}}")
        page = browser.get(f"/item?sku={__import__('urllib.parse').parse.quote(sku)}")
        assert page.status == 200 and sku in page.visible_text and "<script>alert(1)" not in page.text
        assert "<b>bold</b> {{7*7}}" in page.visible_text and not evaluated_template(page.visible_text)
    inventory = browser.get("/stock")
    assert [r[0] for r in inventory.table_rows()] == ["<script>alert(1)</script>", "{{7*7}}"]
    assert "<script>alert(1)" not in inventory.text


def test_the_ledger_csv_download_holds_every_entry_oldest_first(site):
    app, _, browser = site()
    with app.db.write() as conn:
        for n in range(1, 121):
            set_stock(conn, "A/1", "MF", n, note=f"count {n}" if n % 2 else None)
    page = browser.get("/item?sku=A%2F1")
    assert len(page.table_rows(2)) == 50 and 'href="/item?sku=A%2F1&amp;before=' in page.text
    older = browser.get("/item?sku=A%2F1&before=" + page.text.split("before=")[1].split('"')[0])
    assert older.table_rows(2)[0][3] == "70"
    download = browser.get("/item/ledger.csv?sku=A%2F1")
    assert download.status == 200 and download.header("Content-Type").startswith("text/csv")
    assert download.body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(download.body.decode("utf-8-sig"))))
    assert [int(r["on_hand_after"]) for r in rows] == list(range(1, 121))
    assert (rows[0]["note"], rows[1]["note"]) == ("count 1", "")
    assert browser.get("/item/ledger.csv?sku=NOPE").status == 404
    assert browser.get("/item?sku=NOPE").status == 404


def test_the_api_pages_the_stock_shows_an_item_and_makes_both_edits(site):
    app, _, browser = site()
    with app.db.write() as conn:
        for n in range(7):
            set_stock(conn, f"B/{n}", "MF", n)
    status, first = _api(browser, "GET", "/api/v1/stock?limit=3")
    _, second = _api(browser, "GET", f"/api/v1/stock?limit=3&after={first['next_after']}")
    assert status == 200 and [i["sku"] for i in first["items"] + second["items"]] == [f"B/{n}" for n in range(6)]
    assert first["items"][1] == {"sku": "B/1", "title": None, "warehouses": {"MF": 1}, "available": 1}
    status, changed = _api(browser, "POST", "/api/v1/stock/B/1/set", {"warehouse": "mf", "quantity": 4, "note": "n"})
    assert status == 200 and (changed["before"], changed["after"], changed["warehouse"]) == (1, 4, "MF")
    status, adjusted = _api(browser, "POST", "/api/v1/stock/B/1/adjust", {"warehouse": "MF", "delta": -3})
    assert status == 200 and adjusted["after"] == 1 and adjusted["item"]["available"] == 1
    status, refused = _api(browser, "POST", "/api/v1/stock/B/1/adjust", {"warehouse": "MF", "delta": -3})
    assert status == 400 and "cannot take 3 away" in refused["detail"]
    _, ledger = _api(browser, "GET", "/api/v1/stock/B/1/ledger?limit=2")
    assert [(e["delta"], e["note"]) for e in ledger["entries"]] == [(-3, None), (3, "n")] and ledger["next_before"]
    status, missing = _api(browser, "GET", "/api/v1/stock/NOPE")
    assert status == 404 and missing["detail"] == "StockGate has no item 'NOPE'"
    status, _ = _api(browser, "POST", "/api/v1/stock/B/1/set", {"warehouse": "MF", "quantity": -1})
    assert status == 422
    assert _levels(app)["B/1"] == {"MF": 1}
