"""Logins on the web page are gateway.accounts': a user added with `stockgate users add` makes a loopback
page ask for a login, logs in through the form with their role, and stays logged in across a restart."""

from __future__ import annotations

from web_client import Browser

from gateway.accounts.users import add_user
from gateway.passwords import hash_password
from gateway.web import WebServer

LOGIN = f'[web]\nport = 0\nusername = "ops"\npassword_hash = "{hash_password("file-password")}"\n'


def test_a_restart_keeps_a_logged_in_browser_logged_in(site):
    app, server, browser = site(LOGIN)
    add_user(app.db, "olga", "olga-password", "operator")
    assert browser.login("olga", "olga-password").status == 303

    server.stop(5)
    restarted = WebServer(app.db, app.settings)
    restarted.start()
    try:
        again = Browser(restarted.port)
        again.cookies = dict(browser.cookies)
        page = again.get("/")
    finally:
        restarted.stop(5)

    assert page.status == 200 and "olga" in page.visible_text and "Log out" in page.visible_text


def test_a_database_user_makes_the_loopback_page_ask_for_a_login(site):
    app, _, browser = site()
    assert browser.get("/").status == 200              # open, as before any user exists
    add_user(app.db, "ada", "ada-password", "admin")

    asked = browser.get("/history")
    wrong = browser.login("ada", "not-her-password")
    right = browser.login("ada", "ada-password", "/history")

    assert asked.status == 303 and asked.header("Location") == "/login?next=%2Fhistory"
    assert wrong.status == 403 and "Wrong user name or password." in wrong.visible_text
    assert right.status == 303 and right.header("Location") == "/history"
    assert browser.get("/history").status == 200


def test_a_viewer_logged_in_through_the_form_sees_no_action_and_is_refused_posts(site, stockgate, tmp_path):
    app, _, browser = site(LOGIN)
    stockgate("set", "A1", "MF", "5")
    add_user(app.db, "vera", "vera-password", "viewer")

    assert browser.login("vera", "vera-password", "/item?sku=A1").status == 303
    item = browser.get("/item?sku=A1")
    token = item.csrf_token()                          # the logout form's
    refused = browser.post("/item/set", {"csrf_token": token, "sku": "A1", "warehouse": "MF", "quantity": "0"})

    assert item.status == 200 and "vera" in item.visible_text
    assert "<button" not in item.text.split("</header>", 1)[1]
    assert refused.status == 403 and "this needs the operator role" in refused.visible_text
    assert stockgate("stock", "A1", "--json").json()["items"][0]["warehouses"] == {"MF": 5}


def test_the_file_login_still_logs_in_as_an_admin(site):
    _, _, browser = site(LOGIN)

    assert browser.login("ops", "file-password").status == 303
    assert browser.get("/").status == 200


def test_when_the_users_cannot_be_read_a_login_is_asked_for_and_healthz_still_answers(site):
    app, _, browser = site()
    with app.db.write() as conn:
        conn.exec_driver_sql("ALTER TABLE users RENAME TO users_away")
    try:
        home, health = browser.get("/"), browser.get("/healthz")
    finally:
        with app.db.write() as conn:
            conn.exec_driver_sql("ALTER TABLE users_away RENAME TO users")

    assert home.status == 303 and home.header("Location").startswith("/login")
    assert health.status == 200
