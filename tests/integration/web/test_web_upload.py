"""Uploads from the web page: refused without the form's CSRF token, received like any other transport
with it, then processed by the worker; size and form mistakes answered with a message."""

from __future__ import annotations

from sqlalchemy import func, select

from gateway.db import schema
from gateway.pipeline import process_next
from gateway.stock import stock_view


def file_rows(app) -> list:
    f = schema.files.c
    with app.db.read() as conn:
        return conn.execute(select(f.file_id, f.name, f.transport, f.status, f.warehouse, f.mode, f.kind, f.options)
                            .order_by(f.seq)).all()


def on_hand(app, sku: str) -> dict[str, int]:
    with app.db.read() as conn:
        found = stock_view(conn, [sku])
    return found[0]["warehouses"] if found else {}


def test_an_upload_without_the_csrf_token_is_refused_and_nothing_is_received(site):
    app, _, browser = site()
    browser.get("/upload")                       # a session, but the token is not sent

    missing = browser.upload("/upload", {"warehouse": ""}, "qu.csv", b"SKU,MF\nA1,5\n")
    wrong = browser.upload("/upload", {"warehouse": "", "csrf_token": "guess"}, "qu.csv", b"SKU,MF\nA1,5\n")

    assert missing.status == 403 and wrong.status == 403
    assert "security token" in missing.text
    assert file_rows(app) == []


def test_an_upload_with_the_token_is_received_then_processed_and_its_report_page_shows_the_result(site, stockgate):
    woken: list[str] = []
    app, _, browser = site(on_received=woken.append)
    stockgate("set", "A1", "MF", "1")
    token = browser.get("/upload").csrf_token()

    page = browser.upload("/upload", {"csrf_token": token, "warehouse": "", "mode": "partial"}, "qu.csv",
                          b"SKU,Title,MF,EAST\nA1,Widget,5,3\n")

    [row] = file_rows(app)
    assert page.status == 303 and page.header("Location") == f"/files/{row.file_id}"
    assert (row.name, row.transport, row.status, row.kind, row.warehouse) == ("qu.csv", "web", "received",
                                                                              "quantity_update", None)
    assert woken == [row.file_id]
    assert "waiting to be processed" in browser.get(f"/files/{row.file_id}").text

    assert process_next(app.db, app.settings, worker_id="t") == row.file_id

    assert on_hand(app, "A1") == {"MF": 5, "EAST": 3}
    report = browser.get(f"/files/{row.file_id}")
    assert report.status == 200 and "applied" in report.text and "waiting" not in report.text
    latest = browser.get("/history").table_rows()[0]
    assert (latest[0], *latest[2:7]) == (row.file_id, "qu.csv", "-", "quantity update", "web", "applied")


def test_a_stock_file_upload_records_its_warehouse_mode_and_options(site, stockgate):
    app, _, browser = site()
    stockgate("set", "A1", "EAST", "9")
    stockgate("set", "B2", "EAST", "4")
    token = browser.get("/upload").csrf_token()

    page = browser.upload("/upload", {"csrf_token": token, "warehouse": "EAST", "mode": "full",
                                      "create_unknown_skus": "1"}, "C:\\exports\\east stock.csv",
                          b"SKU,Quantity\nA1,2\nNEW-1,6\n")

    [row] = file_rows(app)
    assert page.status == 303
    assert (row.name, row.warehouse, row.mode, row.kind) == ("east stock.csv", "EAST", "full", "stock")
    assert '"create_unknown_skus": true' in row.options
    process_next(app.db, app.settings, worker_id="t")
    assert (on_hand(app, "A1"), on_hand(app, "B2"), on_hand(app, "NEW-1")) == ({"EAST": 2}, {"EAST": 0}, {"EAST": 6})


def test_a_stock_file_upload_names_its_warehouse_in_any_case(site):
    app, _, browser = site()
    token = browser.get("/upload").csrf_token()

    page = browser.upload("/upload", {"csrf_token": token, "warehouse": "east", "mode": "partial",
                                      "create_unknown_skus": "1"}, "east.csv", b"SKU,Quantity\nA1,2\n")

    [row] = file_rows(app)
    assert page.status == 303 and row.warehouse == "EAST"
    process_next(app.db, app.settings, worker_id="t")
    assert on_hand(app, "A1") == {"EAST": 2}


def test_a_file_over_the_size_limit_is_refused_and_not_received(site):
    app, _, browser = site("[files]\nmax_file_mb = 1\n")
    token = browser.get("/upload").csrf_token()

    page = browser.upload("/upload", {"csrf_token": token}, "big.csv", b"SKU,MF\n" + b"A1,1\n" * 300_000)

    assert page.status == 413 and "limit of 1 MB" in page.text
    assert file_rows(app) == []


def test_form_mistakes_are_answered_on_the_form_with_a_message(site):
    app, _, browser = site()
    token = browser.get("/upload").csrf_token()

    unknown = browser.upload("/upload", {"csrf_token": token, "warehouse": "<NOPE>"}, "s.csv", b"SKU,Qty\nA1,1\n")
    no_file = browser.upload("/upload", {"csrf_token": token, "warehouse": ""}, "", b"")
    bad_mode = browser.upload("/upload", {"csrf_token": token, "warehouse": "EAST", "mode": "all"}, "s.csv", b"x")
    cut = browser.request("POST", "/upload", b"--xyz\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n",
                          {"Content-Type": "multipart/form-data; boundary=xyz"})

    assert unknown.status == 400 and "unknown warehouse '<NOPE>'" in unknown.visible_text
    assert "&lt;NOPE&gt;" in unknown.text and "<NOPE>" not in unknown.text
    assert no_file.status == 400 and "Choose a file" in no_file.text
    assert bad_mode.status == 400 and "mode 'all' is not one of partial, full, delta" in bad_mode.visible_text
    assert cut.status == 400 and "incomplete" in cut.text
    with app.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(schema.files)).scalar_one() == 0


def test_a_post_from_another_site_is_refused_even_with_a_token(site):
    app, server, browser = site()
    token = browser.get("/upload").csrf_token()

    page = browser.upload("/upload", {"csrf_token": token}, "qu.csv", b"SKU,MF\nA1,5\n",
                          headers={"Origin": "http://evil.example"})
    same = browser.upload("/upload", {"csrf_token": token}, "qu.csv", b"SKU,MF\nA1,5\n",
                          headers={"Origin": f"http://127.0.0.1:{server.port}"})

    assert page.status == 403 and "cross-site" in page.text
    assert same.status == 303
    assert len(file_rows(app)) == 1
