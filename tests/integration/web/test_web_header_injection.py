"""A login's `next` or a sender's file name that tries to add a header of its own, against a real web server
on loopback, read off the wire as it came (issue 9, point 7)."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

import pytest
from sqlalchemy import select
from web_client import Browser, raw_request

from gateway.db import schema
from gateway.passwords import hash_password
from gateway.pipeline import process_next
from gateway.transports.sources.runner import poll_source

PASSWORD = "correct horse battery staple"
LOGIN_TOML = f'[web]\nport = 0\nusername = "ops"\npassword_hash = "{hash_password(PASSWORD)}"\n'


def hidden_next(page) -> str:
    found = re.search(r'name="next" value="([^"]*)"', page.text)
    assert found, "the login form has no next field"
    return found.group(1)


def post_login(port: int, browser: Browser, next_field: bytes) -> object:
    """Log in with `next_field` as the form carries it (urlencoded bytes, or raw bytes no browser sends)."""
    token = browser.get("/login").csrf_token()
    body = (f"username=ops&password={quote(PASSWORD)}&csrf_token={quote(token)}&next=".encode() + next_field)
    head = (f"POST /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: sg_session={browser.cookies['sg_session']}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    return raw_request(port, head + body)


INJECTED_NEXTS = {                                   # the next field as posted -> what the form decodes it to
    "raw CR/LF": b"/\r\nSet-Cookie: injected=1",
    "percent-encoded CR/LF": b"/%0d%0aSet-Cookie:%20injected=1",
    "CR/LF encoded in the path itself": b"/%250d%250aSet-Cookie:%20injected=1",
    "LF alone": b"/%0aSet-Cookie:%20injected=1",
    "another host": b"%2F%2Fevil.example%2F",
    "a backslash host": b"/%5Cevil.example",
    "an absolute URL": b"https%3A%2F%2Fevil.example%2F",
    "a script URL": b"javascript%3Aalert(1)",
}


@pytest.mark.parametrize("next_field", INJECTED_NEXTS.values(), ids=INJECTED_NEXTS.keys())
def test_a_posted_next_that_is_not_a_plain_local_path_logs_in_to_the_dashboard_and_adds_no_header(site, next_field):
    _, server, browser = site(LOGIN_TOML)

    answer = post_login(server.port, browser, next_field)

    assert answer.status == 303
    assert answer.headers_named("Location") == ["/"]
    assert not any("injected" in line for line in answer.header_lines), answer.header_lines
    [cookie] = answer.headers_named("Set-Cookie")
    assert cookie.startswith("sg_session=")


@pytest.mark.parametrize("next_value", ["/\r\nSet-Cookie: injected=1", "/%0d%0aSet-Cookie: injected=1",
                                        "//evil.example/", "/\\evil.example", "https://evil.example/",
                                        "javascript:alert(1)"])
def test_a_next_in_the_login_link_that_is_not_a_plain_local_path_is_dropped_from_the_form(site, next_value):
    _, _, browser = site(LOGIN_TOML)

    form = browser.get("/login?" + "next=" + quote(next_value, safe=""))
    assert form.status == 200 and hidden_next(form) == "/"
    page = browser.post("/login", {"username": "ops", "password": PASSWORD, "next": hidden_next(form),
                                   "csrf_token": form.csrf_token()})

    assert page.status == 303 and page.header("Location") == "/"


def test_a_plain_local_next_with_a_query_still_opens_that_page_after_the_login(site):
    _, server, browser = site(LOGIN_TOML)

    form = browser.get("/login?next=" + quote("/files?status=held", safe=""))
    posted = post_login(server.port, Browser(server.port), quote("/files?status=held", safe="").encode())
    page = browser.post("/login", {"username": "ops", "password": PASSWORD, "next": hidden_next(form),
                                   "csrf_token": form.csrf_token()})

    assert hidden_next(form) == "/files?status=held"
    assert posted.headers_named("Location") == ["/files?status=held"]
    assert page.status == 303 and page.header("Location") == "/files?status=held"


HOSTILE_NAME = 'stock "east";\r\nSet-Cookie: injected=1\r\n\r\nX: caf\u00e9.csv'


def receive_by_folder(app, tmp_path, browser) -> None:
    (tmp_path / "drop" / HOSTILE_NAME).write_bytes(b"SKU,Quantity\nA1,5\n")
    for _ in range(3):                         # the stability rule may want a second look
        result = poll_source(app.db, app.settings, "drop")
        assert not result.errors, result.errors
        if result.fetched:
            return
    raise AssertionError("the folder source never took the file")


def receive_by_web(app, tmp_path, browser) -> None:
    token = browser.get("/upload").csrf_token()
    boundary = "hostile0boundary"
    # as a browser sends the name (WHATWG HTML, multipart/form-data encoding): `"`, CR and LF escaped, the
    # rest raw UTF-8 (RFC 7578 forbids `filename*`)
    sent_name = HOSTILE_NAME.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="warehouse"\r\n\r\nEAST\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{sent_name}"\r\n'
            f"Content-Type: text/csv\r\n\r\nSKU,Quantity\nA1,5\n\r\n"
            f"--{boundary}--\r\n").encode()
    page = browser.request("POST", "/upload", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert page.status == 303, page.text


@pytest.mark.parametrize("receive", [receive_by_folder, receive_by_web], ids=["folder", "web upload"])
def test_a_report_download_of_a_file_named_with_line_breaks_and_quotes_has_one_intact_disposition_header(
        site, tmp_path, receive):
    (tmp_path / "drop").mkdir()
    source = (f'[[sources]]\nname = "drop"\ntype = "folder"\nwarehouse = "EAST"\npath = "{tmp_path / "drop"}"\n'
              'pattern = "*.csv"\nstable_seconds = 0\n')
    app, server, browser = site(source)
    receive(app, tmp_path, browser)
    assert process_next(app.db, app.settings, worker_id="t") is not None
    with app.db.read() as conn:
        file_id, name = conn.execute(select(schema.files.c.file_id, schema.files.c.name)).one()
    assert "\n" in name and '"' in name          # the name came through as the sender gave it

    for suffix in ("json", "csv"):
        answer = raw_request(server.port, f"GET /files/{file_id}/report.{suffix} HTTP/1.1\r\n"
                                          f"Host: 127.0.0.1\r\n\r\n".encode())

        assert answer.status == 200
        assert not any(line.lower().startswith(("set-cookie", "x:")) for line in answer.header_lines)
        [disposition] = answer.headers_named("Content-Disposition")
        # RFC 6266: a quoted ASCII fallback without quotes or backslashes inside, then the exact name (RFC 5987)
        kind = "inline" if suffix == "json" else "attachment"   # the JSON is shown in the browser
        parts = re.fullmatch(kind + r'; filename="([ !#-\[\]-~]+)"; filename\*=UTF-8\'\'([A-Za-z0-9%._~-]+)',
                             disposition)
        assert parts, disposition
        fallback, exact = parts.group(1), unquote(parts.group(2), errors="strict")
        for shown in (fallback, exact):
            assert shown.startswith("stock ") and shown.endswith(f".{file_id}.report.{suffix}")
            assert not set(shown) & set('\r\n"\\')
        assert "caf\u00e9" in exact
