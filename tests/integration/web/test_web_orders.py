"""The Orders room over real HTTP: the list filtered by channel and status and paged, an order's page with
its lines, allocations per warehouse and `orders explain` in words, and Cancel in StockGate with the
restore choice (page form and `/api/v1/orders/.../cancel`), audited, refused in words."""

from __future__ import annotations

import json
from datetime import timedelta

from channels.model import OrderData, OrderLineData
from gateway.accounts import audit
from gateway.clock import now
from gateway.orders import record_order
from gateway.passwords import hash_password
from gateway.stock import ledger_view, set_stock, stock_view

CHANNELS = ('[[channels]]\nname = "amz"\nmarketplace = "amazon"\nadapter = "sandbox"\n'
            '[[channels]]\nname = "shop"\nmarketplace = "shopify"\nadapter = "sandbox"\n')
LOGIN = f'[web]\nport = 0\nusername = "ops"\npassword_hash = "{hash_password("pw")}"\n' + CHANNELS


def _order(app, channel: str, order_id: str, *lines: tuple[str, str, int], status: str = "accepted", hours: int = 1):
    with app.db.write() as conn:
        record_order(conn, channel, OrderData(order_id, now() - timedelta(hours=hours), status,
                                              tuple(OrderLineData(*line) for line in lines)))


def _levels(app, sku: str) -> dict:
    with app.db.read() as conn:
        return stock_view(conn, [sku])[0]["warehouses"]


def _api(browser, method: str, path: str, body=None):
    page = browser.request(method, path, json.dumps(body).encode() if body is not None else None,
                           {"Content-Type": "application/json"} if body is not None else {})
    return page.status, json.loads(page.body or b"null")


def _stocked(app):
    with app.db.write() as conn:
        set_stock(conn, "HAT", "EAST", 3)
        set_stock(conn, "HAT", "MF", 5)
        set_stock(conn, "MUG", "MF", 4)


def test_the_order_page_shows_lines_allocations_and_a_cancel_that_restores_the_units(site):
    app, _, browser = site(CHANNELS)
    _stocked(app)
    before = _levels(app, "HAT")
    _order(app, "amz", "O-1", ("1", "HAT", 4), ("2", "MUG", 1))
    assert _levels(app, "HAT") == {"MF": 1, "EAST": 3}

    listing = browser.get("/orders")
    assert listing.table_rows() == [["amz", "O-1", listing.table_rows()[0][2], "accepted", "2", "5", "5", "0", "0"]]
    assert 'href="/orders/amz/O-1"' in listing.text
    page = browser.get("/orders/amz/O-1")
    assert page.status == 200
    lines = page.table_rows()
    taken = {row[0]: row[4] for row in lines}
    assert lines[0][:4] == ["1", "HAT", "4", "open"] and lines[0][5] == "nothing"
    assert taken == {"1": "MF 4", "2": "MF 1"}
    assert "Order O-1 took stock when it was accepted at" in page.visible_text
    assert 'name="choice" value="restore"' in page.text

    missing_choice = browser.post("/orders/amz/O-1/cancel", {"csrf_token": page.csrf_token(), "line": "1"})
    assert missing_choice.status == 400 and "choose whether the cancellation restores" in missing_choice.visible_text
    cancelled = browser.post("/orders/amz/O-1/cancel", {"csrf_token": page.csrf_token(), "choice": "restore",
                                                        "line": "1", "reason": "buyer phoned"})
    assert cancelled.status == 303 and cancelled.header("Location") == "/orders/amz/O-1?done=cancel"
    assert _levels(app, "HAT") == before                     # the four units are back where they came from
    after = browser.get(cancelled.header("Location"))
    assert "Cancelled in StockGate" in after.visible_text
    row = next(r for r in after.table_rows() if r[0] == "1")
    assert row[3] == "cancelled" and "in stockgate (reason buyer phoned): restored" in row[7]
    assert "Given back:" in after.visible_text
    with app.db.read() as conn:
        assert {e["cause"] for e in ledger_view(conn, "HAT")} >= {"cancel"}
    [entry] = audit.entries(app.db, action="order.cancel")
    assert (entry.actor, entry.target) == ("web:local", "amz/O-1")
    assert entry.detail["choice"] == "restore" and entry.detail["lines"] == ["1"]

    again = browser.post("/orders/amz/O-1/cancel", {"csrf_token": page.csrf_token(), "choice": "keep", "line": "1"})
    assert again.status == 409 and "already cancelled" in again.visible_text
    assert browser.get("/orders/amz/NOPE").status == 404


def test_a_hostile_order_id_with_a_slash_shows_literally_and_its_page_opens(site):
    app, _, browser = site(CHANNELS)
    _stocked(app)
    hostile = "<script>alert(1)</script>/{{7*7}}"
    _order(app, "amz", hostile, ("1", "HAT", 1))
    listing = browser.get("/orders")
    assert listing.table_rows()[0][1] == hostile and "<script>alert" not in listing.text
    href = "/orders/amz/%3Cscript%3Ealert%281%29%3C%2Fscript%3E%2F%7B%7B7%2A7%7D%7D"
    assert f'href="{href}"' in listing.text
    page = browser.get(href)
    assert page.status == 200 and f"Order {hostile}" in page.visible_text and "49" not in page.visible_text
    cancelled = browser.post(href + "/cancel", {"csrf_token": page.csrf_token(), "choice": "restore"})
    assert cancelled.status == 303 and _levels(app, "HAT") == {"MF": 5, "EAST": 3}
    assert _api(browser, "GET", "/api/v1" + href)[1]["order_id"] == hostile


def test_the_list_filters_by_channel_and_status_and_pages_along(site):
    app, _, browser = site(CHANNELS)
    _stocked(app)
    for n in range(52):
        _order(app, "shop", f"S-{n:02}", ("1", "MUG", 1), status="pending", hours=n + 1)
    _order(app, "amz", "A-1", ("1", "HAT", 1))

    first = browser.get("/orders?channel=shop&status=pending")
    assert len(first.table_rows()) == 50 and "52 orders" in first.visible_text
    assert first.table_rows()[0][1] == "S-00" and "page=2" in first.text
    second = browser.get("/orders?channel=shop&status=pending&page=2")
    assert [r[1] for r in second.table_rows()] == ["S-50", "S-51"]
    assert [r[1] for r in browser.get("/orders?status=accepted").table_rows()] == ["A-1"]
    assert browser.get("/orders?status=lost").status == 400
    assert browser.get("/orders?channel=nope").status == 404

    status, body = _api(browser, "GET", "/api/v1/orders?channel=shop&limit=2&offset=50")
    assert status == 200 and body["total"] == 52 and [o["order_id"] for o in body["orders"]] == ["S-50", "S-51"]
    assert _api(browser, "GET", "/api/v1/orders?status=lost")[0] == 400


def test_the_api_explains_an_order_and_cancels_it_keeping_the_stock(site):
    app, _, browser = site(CHANNELS)
    _stocked(app)
    _order(app, "amz", "O-2", ("1", "HAT", 2))
    levels = _levels(app, "HAT")

    status, body = _api(browser, "GET", "/api/v1/orders/amz/O-2")
    assert status == 200 and body["status"] == "accepted" and body["lines"][0]["sku"] == "HAT"
    assert sum(a["units"] for a in body["lines"][0]["allocations"]) == 2 and body["summary"][0].startswith("Order O-2")
    assert _api(browser, "POST", "/api/v1/orders/amz/O-2/cancel", {"choice": "maybe"})[0] == 422
    status, body = _api(browser, "POST", "/api/v1/orders/amz/O-2/cancel", {"choice": "restore", "lines": ["9"]})
    assert status == 404 and "has no line '9'" in body["detail"]
    status, body = _api(browser, "POST", "/api/v1/orders/amz/O-2/cancel", {"choice": "keep", "reason": "fraud"})
    assert status == 200 and body["changed"] and body["restore"] is False and body["order_status"] == "cancelled"
    assert _levels(app, "HAT") == levels
    assert _api(browser, "GET", "/api/v1/orders/amz/O-2")[1]["lines"][0]["cancellation"]["reason"] == "fraud"
    assert [e.actor for e in audit.entries(app.db, action="order.cancel")] == ["web:local"]


def test_a_viewer_reads_an_order_without_the_cancel_form_and_is_refused_the_cancel(site):
    app, server, browser = site(LOGIN)
    _stocked(app)
    _order(app, "amz", "O-3", ("1", "HAT", 1))
    viewer = server.app.state.sessions.login(None, "vera", "viewer")
    browser.cookies["sg_session"] = viewer.token
    page = browser.get("/orders/amz/O-3")
    assert page.status == 200 and "HAT" in page.visible_text and "/cancel" not in page.text
    assert browser.post("/orders/amz/O-3/cancel", {"csrf_token": viewer.csrf, "choice": "restore"}).status == 403
    assert _api(browser, "POST", "/api/v1/orders/amz/O-3/cancel", {"choice": "restore"})[0] == 403
    assert _api(browser, "GET", "/api/v1/orders/amz/O-3")[1]["status"] == "accepted"
