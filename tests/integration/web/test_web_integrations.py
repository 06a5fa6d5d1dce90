"""The Integrations page and `/api/v1/channels` over real HTTP: each channel's effective settings with their
source, an admin's edits stored in the database (what the pipeline reads, audited as `web:NAME`), a reset to
the file's value, refusals in words with nothing changed, and who may edit."""

from __future__ import annotations

import json

from sqlalchemy import select

from gateway.accounts import audit
from gateway.accounts.users import add_user
from gateway.db import schema
from gateway.passwords import hash_password

CHANNELS = ('[[channels]]\nname = "amz"\nmarketplace = "amazon"\nadapter = "sandbox"\nbuffer = 1\n'
            '[[channels]]\nname = "shop"\nmarketplace = "shopify"\nadapter = "sandbox"\n')
LOGIN = f'[web]\nport = 0\nusername = "ops"\npassword_hash = "{hash_password("pw")}"\n' + CHANNELS


def _as(app, browser, name: str, role: str) -> str:
    """Add the user `name` with `role`, log `browser` in through the login form; its CSRF token."""
    add_user(app.db, name, "password-" + name, role)
    assert browser.login(name, "password-" + name).status == 303
    return browser.get("/").csrf_token()


def _api(browser, method: str, path: str, body=None):
    page = browser.request(method, path, json.dumps(body).encode() if body is not None else None,
                           {"Content-Type": "application/json"} if body is not None else {})
    return page.status, json.loads(page.body or b"null")


def _pipeline_row(app, name: str) -> tuple:
    c = schema.channels.c
    with app.db.read() as conn:
        return tuple(conn.execute(select(c.restore_policy, c.buffer, c.max_qty).where(c.name == name)).one())


def _setting(page, key: str) -> list[str]:
    return next(r for r in page.table_rows() if r[0] == key.replace("_", " "))


def test_an_admin_sets_the_restore_policy_and_buffer_on_the_page_and_resets_the_buffer(site):
    app, _, browser = site(CHANNELS)
    listing = browser.get("/integrations")
    assert listing.status == 200
    amz = next(r for r in listing.table_rows() if r[0] == "amz")
    assert amz[1:7] == ["amazon", "sandbox", "yes", "smart", "1", "no cap"] and amz[8:] == ["never", "never", "none"]

    page = browser.get("/integrations/amz")
    assert _setting(page, "buffer")[2:4] == ["config file", "1"]
    smart = page.table_rows(1)                               # amazon's reason table for smart
    assert any(r[:3] == ["Buyer Canceled", "yes", "yes"] and r[3].startswith("BuyerCanceled") for r in smart)
    assert ["No Inventory", "no", "no", "NoInventory"] in smart
    fields = {"csrf_token": page.csrf_token(), "restore_policy": "never", "buffer": "3", "max_qty": "0"}
    current = {v["key"]: v["value"] for v in _api(browser, "GET", "/api/v1/channels/amz/settings")[1]["settings"]}
    fields.update({k: str(v) for k, v in current.items() if k.endswith("_seconds")})    # as the form sends them
    saved = browser.post("/integrations/amz/settings", fields)
    assert saved.status == 303 and saved.header("Location") == "/integrations/amz?done=saved"
    after = browser.get(saved.header("Location"))
    assert "Saved" in after.visible_text
    assert _setting(after, "restore_policy")[2].startswith("edit by web:local at ")
    assert _setting(after, "buffer")[2].startswith("edit by web:local at ") and _setting(after, "buffer")[3] == "1"
    assert _setting(after, "max_qty")[2] == "config file"     # untouched fields store no edit
    assert _pipeline_row(app, "amz") == ("never", 3, 0)
    [entry] = audit.entries(app.db, action="channel.set")
    assert (entry.actor, entry.target) == ("web:local", "amz")
    assert entry.detail == {"restore_policy": {"from": "smart", "to": "never"}, "buffer": {"from": 1, "to": 3}}

    reset = browser.post("/integrations/amz/reset", {"csrf_token": page.csrf_token(), "key": "buffer"})
    assert reset.status == 303
    assert _pipeline_row(app, "amz") == ("never", 1, 0)
    assert _setting(browser.get("/integrations/amz"), "buffer")[2] == "config file"
    assert [e.action for e in audit.entries(app.db)][:2] == ["channel.unset", "channel.set"]


def test_a_bad_value_is_refused_in_words_and_nothing_is_stored(site):
    app, _, browser = site(CHANNELS)
    token = browser.get("/integrations/amz").csrf_token()
    refused = browser.post("/integrations/amz/settings", {"csrf_token": token, "restore_policy": "never",
                                                          "buffer": "-2"})
    assert refused.status == 400
    assert "channels['amz'].buffer" in refused.visible_text and "nothing was changed" in refused.visible_text
    assert 'value="-2"' in refused.text                       # the form keeps what was typed
    assert _pipeline_row(app, "amz") == ("smart", 1, 0)
    assert browser.get("/integrations/nope").status == 404

    status, body = _api(browser, "PATCH", "/api/v1/channels/amz/settings", {"restore_policy": "sometimes"})
    assert status == 400 and "restore_policy" in body["detail"] and "sometimes" in body["detail"]
    status, body = _api(browser, "PATCH", "/api/v1/channels/amz/settings", {"colour": "red"})
    assert status == 400 and "not a setting that can be edited" in body["detail"]
    assert _api(browser, "PATCH", "/api/v1/channels/nope/settings", {"buffer": 1})[0] == 404
    assert _pipeline_row(app, "amz") == ("smart", 1, 0) and audit.entries(app.db) == []


def test_the_api_lists_channels_and_patches_settings_with_null_restoring_the_files_value(site):
    app, _, browser = site(CHANNELS)
    status, body = _api(browser, "GET", "/api/v1/channels")
    assert status == 200 and [c["name"] for c in body["channels"]] == ["amz", "shop"]
    assert body["channels"][0]["restore_policy"] == "smart" and body["channels"][0]["buffer"] == 1

    status, body = _api(browser, "PATCH", "/api/v1/channels/shop/settings", {"max_qty": 40, "buffer": 2})
    assert status == 200
    values = {s["key"]: (s["value"], s["source"].split(" at ")[0]) for s in body["settings"]}
    assert values["max_qty"] == (40, "edit by web:local") and values["buffer"] == (2, "edit by web:local")
    assert _pipeline_row(app, "shop") == ("smart", 2, 40)
    status, body = _api(browser, "PATCH", "/api/v1/channels/shop/settings", {"max_qty": None})
    values = {s["key"]: (s["value"], s["source"]) for s in body["settings"]}
    assert status == 200 and values["max_qty"] == (0, "config file")
    assert _pipeline_row(app, "shop") == ("smart", 2, 0)
    listed = _api(browser, "GET", "/api/v1/channels")[1]["channels"][1]
    assert (listed["buffer"], listed["max_qty"]) == (2, 0)


def test_an_operator_reads_the_settings_without_a_form_and_is_refused_the_edits(site):
    app, server, browser = site(LOGIN)
    csrf = _as(app, browser, "olga", "operator")
    page = browser.get("/integrations/amz")
    assert page.status == 200 and "smart" in page.visible_text
    assert 'action="/integrations/amz/settings"' not in page.text and ">Save</button>" not in page.text
    assert browser.post("/integrations/amz/settings", {"csrf_token": csrf, "buffer": "5"}).status == 403
    assert browser.post("/integrations/amz/reset", {"csrf_token": csrf, "key": "buffer"}).status == 403
    assert _api(browser, "PATCH", "/api/v1/channels/amz/settings", {"buffer": 5})[0] == 403
    assert _pipeline_row(app, "amz") == ("smart", 1, 0)
    _as(app, browser, "ada", "admin")
    assert 'action="/integrations/amz/settings"' in browser.get("/integrations/amz").text
