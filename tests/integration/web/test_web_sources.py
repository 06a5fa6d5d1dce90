"""The Sources room over real HTTP against a real folder source: each source's last poll, success and
error and each FTP account's uploads; Poll now fetches the ready files and hands them to the worker (here
processed at once), a source being polled elsewhere answers 409, one that cannot be read says why (502)."""

from __future__ import annotations

import json

from gateway.db.leases import Lease
from gateway.passwords import hash_password
from gateway.pipeline import process_next
from gateway.stock import stock_view


def _config(tmp_path, folder) -> str:
    return (f'[[accounts]]\nusername = "wh"\npassword_hash = "{hash_password("pw")}"\nwarehouses = ["WEST"]\n'
            f'[[sources]]\nname = "drop"\ntype = "folder"\nwarehouse = "WEST"\npath = "{folder}"\n'
            f'pattern = "*.csv"\nstable_seconds = 0\ninterval_seconds = 3600\ncreate_unknown_skus = true\n')


def _started(site, tmp_path, folder=None):
    folder = folder or tmp_path / "drop"
    folder.mkdir(exist_ok=True)
    received: list[str] = []
    holder: list = []

    def on_received(file_id: str) -> None:           # the worker's job, done at once for the test
        received.append(file_id)
        process_next(holder[0].db, holder[0].settings, worker_id="test-worker")

    app, server, browser = site(_config(tmp_path, folder), on_received=on_received)
    holder.append(app)
    return app, server, browser, received, folder


def _api(browser, method: str, path: str, body=None):
    page = browser.request(method, path, json.dumps(body).encode() if body is not None else None,
                           {"Content-Type": "application/json"} if body is not None else {})
    return page.status, json.loads(page.body or b"null")


def test_poll_now_fetches_the_ready_file_and_its_quantities_are_applied(site, tmp_path):
    app, _, browser, received, folder = _started(site, tmp_path)
    page = browser.get("/sources")
    assert page.status == 200
    [source] = page.table_rows(0)
    assert source[:3] == ["drop", "folder", "WEST"] and source[5:7] == ["never", "never"]
    assert page.table_rows(1)[0][:4] == ["wh", "WEST", "partial", "0"] and page.table_rows(1)[0][4] == "never"

    (folder / "stock.csv").write_bytes(b"SKU,Quantity\nA1,5\nA2,7\n")
    polled = browser.post("/sources/drop/poll", {"csrf_token": page.csrf_token()})
    assert polled.status == 200 and "drop: polled: fetched stock.csv as file" in polled.visible_text
    assert len(received) == 1 and received[0] in polled.visible_text
    with app.db.read() as conn:
        assert [(r["sku"], r["warehouses"]) for r in stock_view(conn, ["A1", "A2"])] == [
            ("A1", {"WEST": 5}), ("A2", {"WEST": 7})]
    [row] = polled.table_rows(0)
    assert row[5] != "never" and row[6] != "never" and row[9] == ""

    again = browser.post("/sources/drop/poll", {"csrf_token": page.csrf_token()})
    assert "drop: polled: nothing to fetch" in again.visible_text and len(received) == 1
    status, body = _api(browser, "GET", "/api/v1/sources")
    assert status == 200 and body["sources"][0]["name"] == "drop" and body["sources"][0]["last_success_at"]
    assert body["ftp_accounts"][0]["username"] == "wh" and body["ftp_accounts"][0]["files"] == 0

    (folder / "more.csv").write_bytes(b"SKU,Quantity\nA3,2\n")
    status, body = _api(browser, "POST", "/api/v1/sources/drop/poll", {})
    assert status == 200 and [f["name"] for f in body["fetched"]] == ["more.csv"] and body["errors"] == []
    assert received[-1] == body["fetched"][0]["file_id"]
    with app.db.read() as conn:
        assert stock_view(conn, ["A3"])[0]["warehouses"] == {"WEST": 2}


def test_a_source_being_polled_elsewhere_answers_409_and_an_unknown_one_404(site, tmp_path):
    app, _, browser, received, folder = _started(site, tmp_path)
    (folder / "stock.csv").write_bytes(b"SKU,Quantity\nA1,5\n")
    assert Lease(app.db, "source:drop", "otherhost:4242", 600).hold()
    token = browser.get("/sources").csrf_token()

    busy = browser.post("/sources/drop/poll", {"csrf_token": token})
    assert busy.status == 409 and "source drop is being polled by otherhost:4242 right now" in busy.visible_text
    status, body = _api(browser, "POST", "/api/v1/sources/drop/poll", {})
    assert status == 409 and "being polled" in body["detail"]
    assert received == [] and (folder / "stock.csv").exists()
    assert browser.post("/sources/nope/poll", {"csrf_token": token}).status == 404
    assert _api(browser, "POST", "/api/v1/sources/nope/poll", {})[0] == 404


def test_a_source_that_cannot_be_read_shows_its_error(site, tmp_path):
    _, _, browser, _, folder = _started(site, tmp_path)
    folder.rmdir()
    folder.write_text("not a folder")                # the source path is a file: it cannot be listed
    failed = browser.post("/sources/drop/poll", {"csrf_token": browser.get("/sources").csrf_token()})
    assert failed.status == 502 and "drop: poll failed:" in failed.visible_text
    [row] = failed.table_rows(0)
    assert row[5] != "never" and row[6] == "never" and row[7] == "1" and row[9]
