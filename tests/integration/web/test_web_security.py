"""Who may see what: the route inventory against the allowlist, logins and sessions, CSRF on every post,
methods, Host checks and security headers (RELIABILITY F4, DESIGN "Security baseline")."""

from __future__ import annotations

import re

import pytest

from gateway.passwords import hash_password
from gateway.web.app import route_table
from gateway.web.headers import SECURITY_HEADERS
from gateway.web.middleware import PUBLIC_PATHS

PASSWORD = "correct horse battery staple"
HASH = hash_password(PASSWORD)
LOGIN_TOML = f'[web]\nhost = "0.0.0.0"\nport = 0\nusername = "ops"\npassword_hash = "{HASH}"\n'
LOOPBACK_LOGIN_TOML = f'[web]\nport = 0\nusername = "ops"\npassword_hash = "{HASH}"\n'

# One concrete path per route: the inventory test fails when a route is added without one here.
EXAMPLE_PATHS = {
    "/": "/", "/history": "/history?status=applied", "/files/{file_id}": "/files/x-1",
    "/files/{file_id}/reprocess": "/files/x-1/reprocess", "/files/{file_id}/report.json": "/files/x-1/report.json",
    "/files/{file_id}/report.csv": "/files/x-1/report.csv",
    "/stock": "/stock?q=A", "/stock.csv": "/stock.csv", "/listings": "/listings", "/orders": "/orders",
    "/template.{fmt}": "/template.csv", "/upload": "/upload", "/logout": "/logout",
    "/login": "/login", "/healthz": "/healthz", "/static": "/static/style.css",
    "/static/swagger-ui": "/static/swagger-ui/swagger-ui.css", "/docs": "/docs", "/openapi.json": "/openapi.json",
    "/api/v1/files": "/api/v1/files", "/api/v1/files/{file_id}": "/api/v1/files/x-1",
    "/api/v1/files/{file_id}/report": "/api/v1/files/x-1/report", "/api/v1/stock": "/api/v1/stock",
    "/api/v1/stock/{sku:path}": "/api/v1/stock/A1", "/api/v1/stock/{sku:path}/ledger": "/api/v1/stock/A1/ledger",
    "/api/v1/stock/{sku:path}/set": "/api/v1/stock/A1/set",
    "/api/v1/stock/{sku:path}/adjust": "/api/v1/stock/A1/adjust",
    "/item": "/item?sku=A1", "/item/ledger.csv": "/item/ledger.csv?sku=A1", "/item/set": "/item/set",
    "/item/adjust": "/item/adjust", "/listings/link": "/listings/link", "/listings/unlink": "/listings/unlink",
    "/listings/mark": "/listings/mark", "/channels/{name}/sync": "/channels/amz/sync",
    "/channels/{name}/push": "/channels/amz/push", "/api/v1/listings": "/api/v1/listings",
    "/api/v1/listings/link": "/api/v1/listings/link", "/api/v1/listings/unlink": "/api/v1/listings/unlink",
    "/api/v1/listings/mark": "/api/v1/listings/mark", "/api/v1/channels/{name}/sync": "/api/v1/channels/amz/sync",
    "/api/v1/channels/{name}/push": "/api/v1/channels/amz/push",
    "/history.csv": "/history.csv?status=held", "/files/{file_id}/preview": "/files/x-1/preview",
    "/files/{file_id}/release": "/files/x-1/release", "/files/{file_id}/reject": "/files/x-1/reject",
    "/files/{file_id}/original": "/files/x-1/original", "/templates": "/templates",
    "/api/v1/files.csv": "/api/v1/files.csv", "/api/v1/files/{file_id}/issues": "/api/v1/files/x-1/issues",
    "/api/v1/files/{file_id}/original": "/api/v1/files/x-1/original",
    "/api/v1/files/{file_id}/preview": "/api/v1/files/x-1/preview",
    "/api/v1/files/{file_id}/release": "/api/v1/files/x-1/release",
    "/api/v1/files/{file_id}/reject": "/api/v1/files/x-1/reject",
    "/api/v1/files/{file_id}/reprocess": "/api/v1/files/x-1/reprocess", "/api/v1/uploads": "/api/v1/uploads",
    "/api/v1/templates": "/api/v1/templates",
    "/integrations": "/integrations", "/integrations/{name}": "/integrations/amz",
    "/integrations/{name}/settings": "/integrations/amz/settings",
    "/integrations/{name}/reset": "/integrations/amz/reset",
    "/orders/{channel}/{order_id:path}": "/orders/amz/O-1",
    "/orders/{channel}/{order_id:path}/cancel": "/orders/amz/O-1/cancel",
    "/api/v1/orders": "/api/v1/orders", "/api/v1/orders/{channel}/{order_id:path}": "/api/v1/orders/amz/O-1",
    "/api/v1/orders/{channel}/{order_id:path}/cancel": "/api/v1/orders/amz/O-1/cancel",
    "/sources": "/sources", "/sources/{name}/poll": "/sources/drop/poll", "/api/v1/sources": "/api/v1/sources",
    "/api/v1/sources/{name}/poll": "/api/v1/sources/drop/poll",
    "/api/v1/channels": "/api/v1/channels", "/api/v1/channels/{name}/settings": "/api/v1/channels/amz/settings",
}


def _post_headers(path: str) -> dict[str, str]:
    """What a well-formed post to `path` carries, so that only the login decides the answer."""
    if path == "/api/v1/uploads":
        return {"Content-Type": "multipart/form-data; boundary=x", "X-StockGate-Upload": "1"}
    if path.startswith("/api/"):
        return {"Content-Type": "application/json"}
    return {"Content-Type": "application/x-www-form-urlencoded"}


def test_every_route_but_the_allowlist_asks_for_a_login_when_credentials_are_configured(site):
    _, server, browser = site(LOGIN_TOML)
    assert {path for path, _ in route_table(server.app)} == set(EXAMPLE_PATHS), "give every route an example path"

    answered = set()
    for pattern, methods in route_table(server.app):
        path = EXAMPLE_PATHS[pattern]
        for method in sorted(methods):
            write = method not in ("GET", "HEAD")               # POST, and the API's PATCH
            headers = _post_headers(path) if write else {}
            body = (b"{}" if headers.get("Content-Type") == "application/json" else b"") if write else None
            page = browser.request(method, path, body, headers)
            if method == "GET" and page.status == 303 and page.header("Location").startswith("/login?next="):
                assert page.body == b""
                continue
            if method == "POST" and page.status == 403 and "log in first" in page.text:
                continue
            if path.startswith("/api/") and page.status == 401 and "log in first" in page.text:
                continue
            answered.add(path.split("?")[0])

    assert answered == set(PUBLIC_PATHS)


def test_the_login_redirect_remembers_the_page_and_a_login_opens_it(site):
    _, _, browser = site(LOGIN_TOML)

    redirect = browser.get("/stock?q=A1")
    page = browser.login("ops", PASSWORD, next_path="/stock?q=A1")

    assert redirect.header("Location") == "/login?next=%2Fstock%3Fq%3DA1"
    assert page.status == 303 and page.header("Location") == "/stock?q=A1"
    cookie = page.header("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    stock = browser.get("/stock")
    assert stock.status == 200 and "Inventory" in stock.text and "Log out" in stock.text


def test_a_wrong_password_or_user_gives_no_session_that_opens_pages(site):
    _, _, browser = site(LOGIN_TOML)

    wrong_password = browser.login("ops", PASSWORD + "x")
    wrong_user = browser.login("OPS", PASSWORD)
    empty = browser.login("ops", "")

    assert [p.status for p in (wrong_password, wrong_user, empty)] == [403, 403, 403]
    assert "Wrong user name or password" in wrong_password.text
    assert browser.get("/").status == 303


def test_a_login_gives_a_new_session_token_and_logout_ends_it(site):
    _, _, browser = site(LOGIN_TOML)
    browser.get("/login")
    before = browser.cookies["sg_session"]

    browser.login("ops", PASSWORD)
    during = browser.cookies["sg_session"]
    token = browser.get("/").csrf_token()
    logout = browser.post("/logout", {"csrf_token": token})

    assert during != before
    assert logout.status == 303 and logout.header("Location") == "/login"
    assert "sg_session" not in browser.cookies
    browser.cookies["sg_session"] = during            # the old token is dead on the server too
    assert browser.get("/").status == 303


def test_logout_without_the_csrf_token_is_refused(site):
    _, _, browser = site(LOGIN_TOML)
    browser.login("ops", PASSWORD)

    page = browser.post("/logout", {})

    assert page.status == 403
    assert browser.get("/").status == 200


def test_the_login_form_itself_needs_its_csrf_token(site):
    _, _, browser = site(LOGIN_TOML)

    page = browser.post("/login", {"username": "ops", "password": PASSWORD})

    assert page.status == 403 and "sg_session" not in browser.cookies


def test_five_failed_logins_lock_the_address_out_even_for_the_right_password(site):
    _, _, browser = site(LOGIN_TOML)
    for _ in range(5):
        assert browser.login("ops", "nope").status == 403

    page = browser.login("ops", PASSWORD)

    assert page.status == 429 and "Too many failed logins" in page.text
    assert browser.get("/").status == 303


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_a_login_never_redirects_to_another_site(site, target):
    _, _, browser = site(LOGIN_TOML)

    page = browser.login("ops", PASSWORD, next_path=target)

    assert page.status == 303 and page.header("Location") == "/"


def test_on_loopback_credentials_still_ask_for_a_login(site):
    _, _, browser = site(LOOPBACK_LOGIN_TOML)

    assert browser.get("/").status == 303
    assert browser.login("ops", PASSWORD).status == 303
    assert browser.get("/").status == 200


def test_on_loopback_without_credentials_no_login_is_asked(site):
    _, _, browser = site()

    page = browser.get("/")

    assert page.status == 200 and "Dashboard" in page.text and "Log out" not in page.text
    assert browser.get("/login").header("Location") == "/"


def test_only_get_and_post_are_answered(site):
    _, _, browser = site()

    for method in ("PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "PROPFIND"):
        page = browser.request(method, "/")
        assert page.status == 405, method
        assert page.header("Allow") == "GET, POST"
    wrong = browser.post("/stock", {})
    assert wrong.status == 405 and wrong.header("Allow") == "GET"


def test_every_answer_carries_the_security_headers(site):
    _, _, browser = site()

    pages = [browser.get("/"), browser.get("/healthz"), browser.get("/no-such-page"), browser.request("PUT", "/"),
             browser.get("/static/style.css"), browser.request("GET", "/" + "x" * 70_000)]

    assert [p.status for p in pages] == [200, 200, 404, 405, 200, 414]
    for page in pages:
        for name, value in SECURITY_HEADERS:
            assert page.header(name) == value
    assert "default-src 'self'" in pages[0].header("Content-Security-Policy")
    assert pages[0].header("Server") == "StockGate"


def test_a_page_asked_for_under_another_host_name_is_refused_without_a_login(site):
    _, server, browser = site()

    rebinding = browser.get("/", headers={"Host": f"evil.example:{server.port}"})
    local = browser.get("/", headers={"Host": f"localhost:{server.port}"})

    assert rebinding.status == 421
    assert local.status == 200


def test_healthz_answers_ok_without_a_login(site):
    _, _, browser = site(LOGIN_TOML)

    page = browser.get("/healthz")

    assert page.status == 200 and page.text == "ok\n"


def test_no_inline_script_or_style_is_sent(site, stockgate, tmp_path):
    _, _, browser = site()
    for path in ("/", "/history", "/stock", "/listings", "/orders", "/upload"):
        text = browser.get(path).text
        assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=", text), path
