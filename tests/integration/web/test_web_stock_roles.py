"""Who may act on the inventory and listings pages: a viewer reads them with no action button, and every
action (page form or API) answers 403 to a viewer and changes nothing; an operator acts."""

from __future__ import annotations

import json

from gateway.accounts.users import add_user
from gateway.channel_sync.adapters import open_sandbox
from gateway.channel_sync.listings import listings_view
from gateway.passwords import hash_password
from gateway.stock import ledger_view, set_stock

LOGIN = (f'[web]\nport = 0\nusername = "ops"\npassword_hash = "{hash_password("pw")}"\n'
         '[[channels]]\nname = "amz"\nmarketplace = "amazon"\nadapter = "sandbox"\n')
ACTIONS = ("Set", "Adjust", "Link", "Unlink", "Mark", "Sync now", "Full sync", "Push now")


def _as(app, browser, name: str, role: str) -> str:
    """Add the user `name` with `role`, log `browser` in through the login form, and return a CSRF token."""
    add_user(app.db, name, "password-" + name, role)
    assert browser.login(name, "password-" + name).status == 303
    return browser.get("/").csrf_token()


def _setup(app):
    with app.db.write() as conn:
        set_stock(conn, "A1", "MF", 5)
    market = open_sandbox(app.settings.channel("amz"), app.settings.data_dir)
    market.add_listing("L1", "A1", 5)
    market.add_listing("L2", "A1", 0)


def test_a_viewer_sees_the_item_and_listings_without_actions_and_is_refused_every_action(site):
    app, server, browser = site(LOGIN)
    _setup(app)
    _as(app, browser, "ops-admin", "operator")
    synced = browser.post("/channels/amz/sync", {"csrf_token": browser.get("/listings").csrf_token()})
    assert synced.status == 200 and "sync done" in synced.visible_text

    token = _as(app, browser, "vera", "viewer")
    item, listings = browser.get("/item?sku=A1"), browser.get("/listings")
    assert item.status == listings.status == 200 and "L2" in listings.visible_text
    for page in (item, listings):
        assert "<form method=\"post\" action=\"/item" not in page.text and 'action="/listings/' not in page.text
        assert 'action="/channels/' not in page.text and 'type="checkbox"' not in page.text
        assert not any(f">{label}</button>" in page.text for label in ACTIONS)

    posts = [("/item/set", {"sku": "A1", "warehouse": "MF", "quantity": "0"}),
             ("/item/adjust", {"sku": "A1", "warehouse": "MF", "delta": "-1"}),
             ("/listings/link", {"listing_channel": "amz", "listing_id": "L2", "sku": "A1"}),
             ("/listings/unlink", {"listing_channel": "amz", "listing_id": "L1"}),
             ("/listings/mark", {"status": "sold", "listing": json.dumps(["amz", "L1"])}),
             ("/channels/amz/sync", {"full": "1"}), ("/channels/amz/push", {})]
    for path, fields in posts:
        assert browser.post(path, {"csrf_token": token, **fields}).status == 403, path
    for path, body in (("/api/v1/stock/A1/set", {"warehouse": "MF", "quantity": 0}),
                       ("/api/v1/listings/unlink", {"channel": "amz", "listing_id": "L1"}),
                       ("/api/v1/channels/amz/sync", {})):
        answer = browser.request("POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"})
        assert answer.status == 403, path
    with app.db.read() as conn:
        assert [e["on_hand_after"] for e in ledger_view(conn, "A1")] == [5]
        assert [(l["listing_id"], l["item"]) for l in listings_view(conn, "amz")] == [("L1", "A1"), ("L2", None)]


def test_an_operator_sees_the_actions(site):
    app, server, browser = site(LOGIN)
    _setup(app)
    _as(app, browser, "olga", "operator")
    item = browser.get("/item?sku=A1")
    assert ">Set</button>" in item.text and ">Adjust</button>" in item.text
    listings = browser.get("/listings")
    assert ">Sync now</button>" in listings.text and ">Push now</button>" in listings.text
