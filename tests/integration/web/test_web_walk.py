"""A security walk over the whole route table of a seeded page bound to 0.0.0.0 (reached on 127.0.0.1):
every route but the public ones asks for a login, no form post without its CSRF token changes anything, a
viewer is refused every action, and hostile names (SKU, title, file name, listing id, order id, user
name) show literally on every page and in the API's JSON. Paths come from `route_table` with the seeded
values put into their parameters, so a route a room adds is walked without this file changing (the
allowlist test in test_web_security.py checks the same gate with an example path per route)."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import quote

import pytest
from seeded import ADMIN, FILE_NAME, HOSTILE, LISTINGS, ORDER_ID, SCRIPT, TEMPLATE, start_seeded
from sqlalchemy import select

from gateway.db import schema
from gateway.web.app import route_table
from gateway.web.middleware import PUBLIC_PATHS

pytestmark = pytest.mark.slow

UNTRACKED_TABLES = {"web_sessions", "login_failures"}     # a refused post may still touch a session
LOGIN_PATHS = {"/login", "/logout"}                       # posts that are not actions of a role


def parameter_values(seeded) -> dict[str, str]:
    """What each path parameter of a route is given: a seeded thing's name, hostile where it can be."""
    return {"file_id": seeded.file_id, "sku": SCRIPT, "name": "amz", "channel": "amz", "fmt": "csv",
            "listing_id": LISTINGS[0][0], "order_id": ORDER_ID, "id": ORDER_ID, "user": "vera",
            "username": "vera", "source": "amz", "account": "vera"}


def concrete(pattern: str, values: dict[str, str], mount: bool) -> str:
    """A request path for a route pattern (`{name}` or `{name:path}` filled in, percent-encoded)."""
    if mount:
        return pattern + "/walk.css"

    def fill(match: re.Match) -> str:
        name, converter = match.group(1), match.group(2)
        return quote(values.get(name, "x"), safe="/" if converter == ":path" else "")

    return re.sub(r"\{(\w+)(:\w+)?\}", fill, pattern)


def walk(server, seeded):
    """(method, path, is_api) for every method of every route of the running app."""
    values = parameter_values(seeded)
    mounts = {r.path for r in server.app.routes if type(r).__name__ == "Mount"}
    for pattern, methods in route_table(server.app):
        path = concrete(pattern, values, pattern in mounts)
        for method in sorted(methods):
            yield method, path, path.startswith("/api/")


def api_write(browser, method: str, path: str):
    """An API write as a script sends it: JSON, or (a route that takes a file) a multipart upload."""
    answer = browser.request(method, path, b"{}", {"Content-Type": "application/json"})
    if answer.status == 415 and "multipart/form-data" in answer.text:
        answer = browser.upload(path, {}, "walk.csv", b"SKU,MF\nA1,1\n", {"X-StockGate-Upload": "1"})
    return answer


def tables(app) -> dict[str, list]:
    """Every row of every table an action could change, for comparing before and after."""
    with app.db.read() as conn:
        return {t.name: sorted(map(repr, conn.execute(select(t)).all())) for t in schema.metadata.sorted_tables
                if t.name not in UNTRACKED_TABLES}


FORM_FIELDS = {"sku": SCRIPT, "warehouse": "MF", "quantity": "0", "delta": "-1", "note": TEMPLATE,
               "listing_channel": "amz", "listing_id": "GONE", "channel": "amz", "status": "sold",
               "listing": json.dumps(["amz", "GONE"]), "full": "1", "mode": "partial", "reason": TEMPLATE,
               "username": "vera", "password": "x" * 12, "role": "admin", "value": "never", "key": "restore"}


@pytest.fixture
def seeded(site, stockgate, tmp_path):
    return start_seeded(site, stockgate, tmp_path)


def test_off_loopback_every_route_but_the_public_ones_asks_for_a_login(seeded):
    browser, refused = seeded.anonymous(), []
    for method, path, is_api in walk(seeded.server, seeded):
        if path in PUBLIC_PATHS or path == "/healthz":
            continue
        if method == "GET":
            answer = browser.get(path)
        elif is_api:
            answer = api_write(browser, method, path)
        else:
            answer = browser.post(path, {})
        if is_api:
            ok = answer.status == 401 and json.loads(answer.body) == {"detail": "log in first"}
        elif method == "GET":
            ok = answer.status == 303 and answer.header("Location").startswith("/login?next=")
        else:
            ok = answer.status == 403 and "log in first" in answer.text
        if not ok:
            refused.append((method, path, answer.status, answer.text[:200]))

    assert refused == []
    assert seeded.anonymous().get("/healthz").text == "ok\n"


def test_no_form_post_without_its_csrf_token_changes_anything(seeded):
    before = tables(seeded.app)
    for role in ("admin", "operator"):
        browser = seeded.browsers[role]
        for method, path, is_api in walk(seeded.server, seeded):
            if method != "POST" or is_api:
                continue
            answer = browser.post(path, FORM_FIELDS)
            refused_for = "security token" in answer.visible_text or (   # an operator may meet the role check first
                role == "operator" and "needs the admin role" in answer.visible_text)
            assert answer.status == 403 and refused_for, (role, path, answer.status)
            assert browser.post(path, {**FORM_FIELDS, "csrf_token": "forged"}).status == 403, (role, path)
    assert seeded.browsers["admin"].get("/").status == 200, "the session survived the refusals"
    assert tables(seeded.app) == before


def test_a_viewer_is_refused_every_action_and_changes_nothing(seeded):
    browser, before = seeded.browsers["viewer"], tables(seeded.app)
    token = browser.get("/").csrf_token()
    answers = []
    for method, path, is_api in walk(seeded.server, seeded):
        if method == "GET" or path in LOGIN_PATHS:
            continue
        if is_api:
            answer = api_write(browser, method, path)
        else:
            answer = browser.post(path, {**FORM_FIELDS, "csrf_token": token})
        answers.append((method, path, answer.status))

    assert answers and [a for a in answers if a[2] != 403] == []
    assert tables(seeded.app) == before


def _evaluated(value: str) -> str:
    return value.replace(TEMPLATE, "49")


def test_hostile_names_show_literally_on_every_page_and_in_the_api(seeded):
    browser, problems, pages = seeded.browsers["admin"], [], {}
    names = (*HOSTILE, ADMIN, FILE_NAME, ORDER_ID, *(listing_id for listing_id, _, _ in LISTINGS))
    markup = [n for n in names if "<" in n]
    evaluated = [_evaluated(n) for n in names if TEMPLATE in n and n != TEMPLATE]
    for method, path, is_api in walk(seeded.server, seeded):
        if method != "GET" or path in ("/logout",):
            continue
        page = browser.get(path + ("&" if "?" in path else "?") + "sku=" + quote(SCRIPT))
        kind = (page.header("Content-Type") or "").split(";")[0]
        if page.status >= 500:
            problems.append((path, page.status, page.text[:200]))
        if kind == "text/html":
            pages[path] = page
            problems += [(path, "raw markup", n) for n in markup if n in page.text]
            problems += [(path, "evaluated", e) for e in evaluated if e in page.visible_text]
            if 'action="/logout"' in page.text and html.escape(ADMIN, quote=False) not in page.text:
                problems.append((path, "the user's name is not shown escaped"))
        elif kind == "application/json":
            text = page.body.decode("utf-8")
            problems += [(path, "escaped in JSON", n) for n in markup if html.escape(n) in text]
            problems += [(path, "evaluated", e) for e in evaluated if json.dumps(e)[1:-1] in text]

    assert problems == []
    listed = {"/": [FILE_NAME], "/history": [FILE_NAME], f"/files/{seeded.file_id}": [FILE_NAME],
              "/stock": [SCRIPT, TEMPLATE], "/listings": [LISTINGS[0][0], LISTINGS[1][0], TEMPLATE, SCRIPT],
              "/orders": [ORDER_ID], f"/orders/amz/{quote(ORDER_ID, safe='/')}": [ORDER_ID, TEMPLATE, SCRIPT]}
    for path, shown in listed.items():
        assert pages[path].status == 200, path
        assert all(value in pages[path].visible_text for value in shown), (path, shown)
    api = {path: browser.get(path).text for path in ("/api/v1/stock", "/api/v1/listings", "/api/v1/files")}
    assert SCRIPT in json.loads(api["/api/v1/stock"])["items"][0]["sku"]
    assert {LISTINGS[0][0], LISTINGS[1][0]} <= {l["listing_id"] for l in json.loads(api["/api/v1/listings"])["listings"]}
    assert FILE_NAME in {f["name"] for f in json.loads(api["/api/v1/files"])["files"]}
