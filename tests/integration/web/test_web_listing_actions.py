"""The Listings page's actions over real HTTP, and the same through `/api/v1/listings` and
`/api/v1/channels/{name}/sync|push`, against sandbox marketplaces: link and unlink (the listing rules'
refusals in words), mark missing listings with one button, Sync now and Push now."""

from __future__ import annotations

import json

from gateway.accounts import audit
from gateway.channel_sync.adapters import open_sandbox
from gateway.channel_sync.listings import listings_view
from gateway.stock import set_stock

CHANNELS = ('[[channels]]\nname = "amz"\nmarketplace = "amazon"\nadapter = "sandbox"\n'
            '[[channels]]\nname = "shop"\nmarketplace = "shopify"\nadapter = "sandbox"\n')


def _sandbox(app, name: str):
    return open_sandbox(app.settings.channel(name), app.settings.data_dir)


def _shown(app, name: str) -> dict[str, int]:
    return {l["listing_id"]: l["quantity"] for l in _sandbox(app, name).show()["listings"]}


def _listing(app, channel: str, listing_id: str) -> dict:
    with app.db.read() as conn:
        return listings_view(conn, channel, listing_id=listing_id)[0]


def _api(browser, method: str, path: str, body: dict | None = None):
    page = browser.request(method, path, json.dumps(body).encode() if body is not None else None,
                           {"Content-Type": "application/json"} if body is not None else {})
    return page.status, json.loads(page.body or b"null")


def _row(page, listing_id: str) -> list[str]:
    return next(r for r in page.table_rows() if r[2] == listing_id)


def test_an_unlinked_listing_linked_on_the_page_is_pushed_its_items_quantity(site):
    app, _, browser = site(CHANNELS)
    with app.db.write() as conn:
        set_stock(conn, "HAT-1", "MF", 3)
        set_stock(conn, "HAT-2", "EAST", 6)
    _sandbox(app, "amz").add_listing("A-1", "HAT-1", 3)
    _sandbox(app, "amz").add_listing("A-2", "HAT-1", 0)
    page = browser.get("/listings")
    synced = browser.post("/channels/amz/sync", {"csrf_token": page.csrf_token(), "full": "0"})
    assert synced.status == 200 and "amz: sync done: seen 2, new 2, linked 1, unlinked 1" in synced.visible_text
    assert "unlinked (CHANNEL_ALREADY_LINKED)" in _row(synced, "A-2")

    refused = browser.post("/listings/link", {"csrf_token": page.csrf_token(), "listing_channel": "amz",
                                              "listing_id": "A-2", "sku": "HAT-1", "state": "unlinked"})
    assert refused.status == 409
    assert ("item 'HAT-1' is already linked to listing 'A-1' on amz: an item has one listing per channel "
            "(unlink 'A-1' first) (CHANNEL_ALREADY_LINKED)") in refused.visible_text
    linked = browser.post("/listings/link", {"csrf_token": page.csrf_token(), "listing_channel": "amz",
                                             "listing_id": "A-2", "sku": "HAT-2", "state": "unlinked"})
    assert linked.status == 303 and linked.header("Location") == "/listings?state=unlinked&done=link"
    assert _listing(app, "amz", "A-2")["pending_quantity"] == 6
    pushed = browser.post("/channels/amz/push", {"csrf_token": page.csrf_token()})
    assert pushed.status == 200 and "amz: push done" in pushed.visible_text
    assert _shown(app, "amz")["A-2"] == 6
    assert _row(pushed, "A-2")[5:7] == ["HAT-2", "linked"]
    assert [e.action for e in audit.entries(app.db)] == ["channel.push", "listing.link", "channel.listings"]
    runs = browser.get("/integrations/amz").visible_text     # the last runs in words, not their JSON
    assert "sent 2, delivered 2, failed 0, skipped 0" in runs and "seen 2, new 2, linked 1, unlinked 1, imported 0" in runs
    assert '"channel"' not in runs and "{" not in runs


def test_missing_listings_ticked_are_marked_sold_with_one_button_and_a_wrong_tick_marks_none(site):
    app, _, browser = site(CHANNELS)
    for n in (1, 2, 3):
        _sandbox(app, "amz").add_listing(f"A-{n}", f"HAT-{n}", n)
    page = browser.get("/listings")
    browser.post("/channels/amz/sync", {"csrf_token": page.csrf_token()})
    _sandbox(app, "amz").remove_listing("A-1")
    _sandbox(app, "amz").remove_listing("A-2")
    full = browser.post("/channels/amz/sync", {"csrf_token": page.csrf_token(), "full": "1"})
    assert "amz: full sync done" in full.visible_text and "missing 2" in full.visible_text
    assert full.text.count('type="checkbox" name="listing"') == 2

    token = page.csrf_token()
    wrong = browser.post("/listings/mark", [("csrf_token", token), ("status", "sold"),
                                            ("listing", json.dumps(["amz", "A-1"])),
                                            ("listing", json.dumps(["amz", "A-3"]))])
    assert wrong.status == 400 and "listing 'A-3' on 'amz' is active" in wrong.visible_text
    assert _listing(app, "amz", "A-1")["status"] == "missing"
    marked = browser.post("/listings/mark", [("csrf_token", token), ("status", "sold"),
                                             ("listing", json.dumps(["amz", "A-1"])),
                                             ("listing", json.dumps(["amz", "A-2"]))])
    assert marked.status == 303
    assert [_listing(app, "amz", f"A-{n}")["status"] for n in (1, 2, 3)] == ["sold", "sold", "active"]
    nothing = browser.post("/listings/mark", {"csrf_token": token, "status": "sold"})
    assert nothing.status == 400 and "tick the missing listings" in nothing.visible_text
    sold = browser.get("/listings?state=sold")
    assert [r[2] for r in sold.table_rows()] == ["A-1", "A-2"]


def test_the_api_lists_links_unlinks_marks_syncs_and_pushes(site):
    app, _, browser = site(CHANNELS)
    with app.db.write() as conn:
        set_stock(conn, "TEE", "MF", 4)
    _sandbox(app, "shop").add_listing("S-1", "TEE", 0, size="M")
    _sandbox(app, "shop").add_listing("S-2", "GHOST-SKU-\u0007", 2)
    status, synced = _api(browser, "POST", "/api/v1/channels/shop/sync", {})
    assert status == 200 and synced["ok"] and synced["outcome"]["linked"] == 1
    _, unlinked = _api(browser, "GET", "/api/v1/listings?state=unlinked")
    assert [(l["listing_id"], l["link_reason"]) for l in unlinked["listings"]] == [("S-2", "INVALID_SKU")]
    assert _api(browser, "POST", "/api/v1/listings/unlink", {"channel": "shop", "listing_id": "S-1"})[0] == 200
    status, linked = _api(browser, "POST", "/api/v1/listings/link", {"channel": "shop", "listing_id": "S-2",
                                                                     "sku": "TEE"})
    assert status == 200 and (linked["item"], linked["pending_quantity"]) == ("TEE", 4)
    status, pushed = _api(browser, "POST", "/api/v1/channels/shop/push", {})
    assert status == 200 and pushed["outcome"]["delivered"] == 1 and _shown(app, "shop")["S-2"] == 4
    status, refused = _api(browser, "POST", "/api/v1/listings/link", {"channel": "shop", "listing_id": "S-1",
                                                                      "sku": "TEE"})
    assert status == 409 and refused["code"] == "CHANNEL_ALREADY_LINKED"
    status, refused = _api(browser, "POST", "/api/v1/listings/mark", {"status": "sold", "listings": [
        {"channel": "shop", "listing_id": "S-1"}]})
    assert status == 400 and "only a missing listing can be marked sold" in refused["detail"]
    status, unknown = _api(browser, "POST", "/api/v1/channels/nope/sync", {})
    assert status == 404 and "'nope' is not configured" in unknown["detail"]
    _, page1 = _api(browser, "GET", "/api/v1/listings?limit=1")
    _, page2 = _api(browser, "GET", "/api/v1/listings?limit=1&after_channel={}&after_listing={}".format(
        *page1["next_after"]))
    assert [l["listing_id"] for l in page1["listings"] + page2["listings"]] == ["S-1", "S-2"]
    assert page2["next_after"] is None


LOCATED = ('[[channels]]\nname = "amz"\n'   # EAST and MF: the site's own warehouses
           'marketplace = "amazon"\nadapter = "sandbox"\nlocations = { "loc-e" = ["EAST"], "loc-w" = ["MF"] }\n')


def test_a_listing_at_two_locations_shows_each_on_the_page_and_the_api_and_unlinks_the_one_clicked(site):
    app, _, browser = site(LOCATED)
    with app.db.write() as conn:
        set_stock(conn, "HAT-1", "EAST", 4)
        set_stock(conn, "HAT-1", "MF", 6)
    _sandbox(app, "amz").add_listing("A-1", "HAT-1", 0, locations=("loc-e", "loc-w"))
    page = browser.get("/listings")
    browser.post("/channels/amz/sync", {"csrf_token": page.csrf_token(), "full": "1"})
    browser.post("/channels/amz/push", {"csrf_token": page.csrf_token()})
    page = browser.get("/listings")
    rows = [r for r in page.table_rows() if "A-1" in r]
    assert [r[r.index("A-1") + 1] for r in rows] == ["loc-e", "loc-w"]
    status, body = _api(browser, "GET", "/api/v1/listings?channel=amz")
    assert status == 200
    assert [(l["location"], l["last_pushed_quantity"]) for l in body["listings"]] == [("loc-e", 4), ("loc-w", 6)]
    unlinked = browser.post("/listings/unlink", {"csrf_token": page.csrf_token(), "listing_channel": "amz",
                                                 "listing_id": "A-1", "listing_location": "loc-w"})
    assert unlinked.status == 303
    status, body = _api(browser, "POST", "/api/v1/listings/unlink", {"channel": "amz", "listing_id": "A-1"})
    assert status == 400 and "stocked at several locations ('loc-e', 'loc-w')" in json.dumps(body)
    with app.db.read() as conn:
        assert [(r["location"], r["link"]) for r in listings_view(conn, "amz")] == [("loc-e", "linked"),
                                                                                    ("loc-w", "unlinked")]
