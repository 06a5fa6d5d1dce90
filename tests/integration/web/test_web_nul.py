"""A NUL character in a request (path, query, form or JSON body) is refused with 400 in words on both
engines, before any lookup or write (PostgreSQL cannot hold one: it was a 500 there, found by the fuzz)."""

from __future__ import annotations

import json

from gateway.stock import ledger_view, set_stock

NUL_REFUSED = "the request holds a NUL character (\\0), which no name, SKU or text may hold"
CHANNEL = '[[channels]]\nname = "amz"\nmarketplace = "amazon"\nadapter = "sandbox"\n'


def test_a_nul_anywhere_in_a_request_is_refused_in_words_and_changes_nothing(site):
    app, _, browser = site(CHANNEL)
    with app.db.write() as conn:
        set_stock(conn, "A1", "MF", 5)
    token = browser.get("/item?sku=A1").csrf_token()

    api = [browser.request("POST", "/api/v1/listings/unlink", json.dumps({"channel": "a\x00", "listing_id": "L"})
                           .encode(), {"Content-Type": "application/json"}),
           browser.request("POST", "/api/v1/stock/A1/set", json.dumps({"warehouse": "MF", "quantity": 1,
                                                                       "note": "x\x00"}).encode(),
                           {"Content-Type": "application/json"}),
           browser.get("/api/v1/stock?q=%00"), browser.get("/api/v1/stock/A%001"),
           browser.get("/api/v1/listings?channel=amz%00")]
    pages = [browser.post("/item/set", {"csrf_token": token, "sku": "A1", "warehouse": "MF", "quantity": "1",
                                        "note": "why\x00"}),
             browser.get("/stock?q=%00"), browser.get("/listings?q=a%00b")]

    for answer in api:
        assert answer.status == 400 and json.loads(answer.body) == {"detail": NUL_REFUSED}
    for answer in pages:
        assert answer.status == 400 and NUL_REFUSED in answer.text
    with app.db.read() as conn:
        assert [e["on_hand_after"] for e in ledger_view(conn, "A1")] == [5]
    assert browser.get("/stock?q=A").status == 200
