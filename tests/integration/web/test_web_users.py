"""The Users page and /api/v1/users (admin only): an admin adds, re-roles, resets and removes users
through gateway.accounts (audited as web:NAME); refusals are shown in words; others get 403."""

from __future__ import annotations

import json

from web_client import Browser

from gateway.accounts import audit
from gateway.accounts.users import add_user, authenticate, list_users
from gateway.passwords import hash_password

LOGIN = f'[web]\nport = 0\nusername = "ops"\npassword_hash = "{hash_password("file-password")}"\n'


def _admin(site):
    app, server, browser = site(LOGIN)
    assert browser.login("ops", "file-password").status == 303
    return app, server, browser


def _roles(app) -> dict[str, str]:
    return {u.name: u.role for u in list_users(app.db)}


def test_an_admin_adds_changes_resets_and_removes_a_user_on_the_users_page(site):
    app, server, browser = _admin(site)
    token = browser.get("/users").csrf_token()

    added = browser.post("/users/add", {"csrf_token": token, "name": "vera", "role": "viewer",
                                        "password": "vera-password", "password_again": "vera-password"})
    listed = browser.get("/users")
    promoted = browser.post("/users/role", {"csrf_token": token, "name": "vera", "role": "operator"})
    reset = browser.post("/users/password", {"csrf_token": token, "name": "vera", "password": "new-password",
                                             "password_again": "new-password"})
    assert added.status == promoted.status == reset.status == 303
    assert "vera" in listed.visible_text and "the configuration file" in listed.visible_text
    assert _roles(app) == {"vera": "operator"}
    assert authenticate(app.db, "vera", "new-password") is not None
    assert authenticate(app.db, "vera", "vera-password") is None

    removed = browser.post("/users/remove", {"csrf_token": token, "name": "vera"})
    assert removed.status == 303 and _roles(app) == {}
    logged = [(e.actor, e.action, e.target) for e in reversed(audit.entries(app.db))]
    assert logged == [("web:ops", "user.add", "vera"), ("web:ops", "user.role", "vera"),
                      ("web:ops", "user.passwd", "vera"), ("web:ops", "user.remove", "vera")]


def test_refusals_are_shown_in_words_and_change_nothing(site):
    app, server, browser = _admin(site)
    add_user(app.db, "ada", "ada-password", "admin")
    token = browser.get("/users").csrf_token()

    differ = browser.post("/users/add", {"csrf_token": token, "name": "bob", "role": "viewer",
                                         "password": "bob-password", "password_again": "bob-passwort"})
    short = browser.post("/users/add", {"csrf_token": token, "name": "bob", "role": "viewer",
                                        "password": "short", "password_again": "short"})
    last = browser.post("/users/role", {"csrf_token": token, "name": "ada", "role": "viewer"})
    unknown = browser.post("/users/remove", {"csrf_token": token, "name": "nobody"})

    assert differ.status == 400 and "the two passwords differ" in differ.visible_text
    assert short.status == 400 and "at least 8 characters" in short.visible_text
    assert last.status == 400 and "'ada' is the last admin" in last.visible_text
    assert unknown.status == 404 and "no user 'nobody'" in unknown.visible_text
    assert _roles(app) == {"ada": "admin"} and audit.entries(app.db) == []


def test_the_users_api_lists_adds_changes_and_removes_for_an_admin(site):
    app, server, browser = _admin(site)

    def call(method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        return browser.request(method, path, data, headers)

    created = call("POST", "/api/v1/users", {"name": "olga", "role": "operator", "password": "olga-password"})
    changed = call("PATCH", "/api/v1/users/olga", {"role": "viewer"})
    short = call("PATCH", "/api/v1/users/olga", {"password": "short"})
    listed = call("GET", "/api/v1/users")
    removed = call("DELETE", "/api/v1/users/olga")
    gone = call("DELETE", "/api/v1/users/olga")

    assert created.status == 201 and json.loads(created.body)["role"] == "operator"
    assert changed.status == 200 and json.loads(changed.body)["role"] == "viewer"
    assert short.status == 400 and "at least 8 characters" in json.loads(short.body)["detail"]
    assert [(u["name"], u["role"], u["source"]) for u in json.loads(listed.body)] == [
        ("ops", "admin", "config"), ("olga", "viewer", "database")]
    assert "password_hash" not in listed.text
    assert removed.status == 204 and gone.status == 404 and _roles(app) == {}
    assert [e.action for e in audit.entries(app.db)] == ["user.remove", "user.role", "user.add"]


def test_an_operator_gets_403_on_the_users_page_and_api(site):
    app, server, browser = site(LOGIN)
    add_user(app.db, "olga", "olga-password", "operator")
    assert browser.login("olga", "olga-password").status == 303
    token = browser.get("/").csrf_token()

    page = browser.get("/users")
    post = browser.post("/users/add", {"csrf_token": token, "name": "eve", "role": "admin",
                                       "password": "eve-password", "password_again": "eve-password"})
    api = browser.request("POST", "/api/v1/users", json.dumps({"name": "eve", "role": "admin",
                          "password": "eve-password"}).encode(), {"Content-Type": "application/json"})

    assert page.status == post.status == api.status == 403
    assert _roles(app) == {"olga": "operator"}


def test_the_navigation_shows_each_role_only_the_pages_it_can_open(site):
    app, server, browser = site(LOGIN)
    add_user(app.db, "vic", "vic-password", "viewer")
    add_user(app.db, "olga", "olga-password", "operator")
    seen = {}
    for name, password in (("vic", "vic-password"), ("olga", "olga-password"), ("ops", "file-password")):
        assert browser.login(name, password).status == 303
        nav = browser.get("/").text.split("<nav>", 1)[1].split("</nav>", 1)[0]
        seen[name] = {label: f'href="{href}"' in nav for href, label in (("/users", "Users"), ("/audit", "Audit"),
                                                                         ("/stock", "Inventory"))}
        assert all(browser.get(href).status == 200 for href in ("/users", "/audit", "/stock")
                   if f'href="{href}"' in nav)

    assert seen == {"vic": {"Users": False, "Audit": False, "Inventory": True},
                    "olga": {"Users": False, "Audit": True, "Inventory": True},
                    "ops": {"Users": True, "Audit": True, "Inventory": True}}
