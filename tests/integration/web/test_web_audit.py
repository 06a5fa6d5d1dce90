"""The Audit page and GET /api/v1/audit: entries newest first, filtered by actor, action and dates, a
page at a time; operators and admins read them, a viewer gets 403."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from gateway.accounts import audit
from gateway.accounts.users import add_user
from gateway.passwords import hash_password

LOGIN = f'[web]\nport = 0\nusername = "ops"\npassword_hash = "{hash_password("file-password")}"\n'


def _record(app, actor, action, target, day, **detail):
    audit.record(app.db, actor=actor, action=action, target=target, detail=detail or None,
                 clock=lambda: datetime(2026, 11, day, 9, 0, tzinfo=UTC))


def test_the_audit_page_filters_by_actor_action_and_dates_and_pages(site):
    app, _, browser = site(LOGIN)
    _record(app, "cli:root", "user.add", "ada", 20, role="admin")
    _record(app, "web:ada", "stock.set", "A1", 21)
    _record(app, "web:ada", "stock.set", "<script>alert(1)</script>", 22)
    _record(app, "web:bob", "stock.set", "B1", 23)
    add_user(app.db, "olga", "olga-password", "operator")
    assert browser.login("olga", "olga-password").status == 303

    everything = browser.get("/audit")
    by_ada = browser.get("/audit?actor=web:ada&action=stock.set")
    in_range = browser.get("/audit?since=2026-11-21&until=2026-11-22")
    bad = browser.get("/audit?since=tuesday")

    assert [r[1] for r in everything.table_rows()] == ["web:bob", "web:ada", "web:ada", "cli:root"]
    assert everything.table_rows()[3][4] == "role: admin"
    assert [r[3] for r in by_ada.table_rows()] == ["<script>alert(1)</script>", "A1"]
    assert "&lt;script&gt;" in by_ada.text and "<script>alert" not in by_ada.text
    assert [r[3] for r in in_range.table_rows()] == ["<script>alert(1)</script>", "A1"]
    assert bad.status == 400 and "since 'tuesday' is not a date" in bad.visible_text


def test_the_audit_api_pages_and_a_viewer_is_refused(site):
    app, _, browser = site(LOGIN)
    for day in range(1, 4):
        _record(app, "web:ada", "stock.set", f"A{day}", day)
    assert browser.login("ops", "file-password").status == 303

    first = json.loads(browser.get("/api/v1/audit?per_page=2").body)
    second = json.loads(browser.get("/api/v1/audit?per_page=2&page=2").body)
    assert [e["target"] for e in first["entries"]] == ["A3", "A2"] and first["has_more"] is True
    assert [e["target"] for e in second["entries"]] == ["A1"] and second["has_more"] is False
    assert first["entries"][0]["at"].startswith("2026-11-03") and first["entries"][0]["actor"] == "web:ada"

    add_user(app.db, "vera", "vera-password", "viewer")
    assert browser.login("vera", "vera-password").status == 303
    assert browser.get("/audit").status == 403 and browser.get("/api/v1/audit").status == 403
