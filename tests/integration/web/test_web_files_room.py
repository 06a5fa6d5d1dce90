"""The files room on a real uvicorn: the history's filters, pages and CSV; a held file released and another
rejected from its report page; a viewer who finds no button and is refused the post; the preview, the
original download, the Upload page's dry run, as-of and sheet; the Templates page."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import Workbook, load_workbook
from web_client import ingest

from gateway.intake import Delivery, receive_bytes
from gateway.stock import stock_view

HOSTILE = "<script>alert(1)</script>{{7*7}}.csv"


def on_hand(app, sku: str) -> dict[str, int]:
    with app.db.read() as conn:
        found = stock_view(conn, [sku])
    return found[0]["warehouses"] if found else {}


def held_file(stockgate, tmp_path, name: str = "west.csv") -> str:
    for sku in ("A1", "A2", "A3"):
        stockgate("set", sku, "WEST", "5")
    report = ingest(stockgate, tmp_path, name, "SKU,Qty\nA1,6\n", "--warehouse", "WEST", "--mode", "full")
    assert report["status"] == "held"
    return report["file_id"]


def viewer(server, browser) -> None:
    """Make `browser` a logged-in viewer (the session store's login, as /login does for a viewer account)."""
    session = server.app.state.sessions.create()
    browser.cookies["sg_session"] = server.app.state.sessions.login(session.token, "vera", "viewer").token


def test_the_history_filters_by_transport_name_and_dates_and_exports_the_filtered_list(site, stockgate, tmp_path):
    app, _, browser = site()
    stockgate("set", "A1", "EAST", "1")
    ingest(stockgate, tmp_path, "east-monday.csv", "SKU,Qty\nA1,2\n", "--warehouse", "EAST")
    ingest(stockgate, tmp_path, "east-tuesday.csv", "SKU,Qty\nA1,3\n", "--warehouse", "EAST")
    receive_bytes(app.db, app.settings.data_dir, Delivery("upload.csv", "web"), b"SKU,MF\nA1,1\n")

    by_name = browser.get("/history?name=TUESDAY&transport=cli&since=2020-01-01")
    web_only = browser.get("/history?transport=web")
    export = browser.get("/history.csv?warehouse=east")
    bad = browser.get("/history?since=someday")

    assert [row[2] for row in by_name.table_rows()] == ["east-tuesday.csv"]
    assert "1 file match" in by_name.visible_text
    assert [row[2] for row in web_only.table_rows()] == ["upload.csv"]
    assert export.status == 200 and export.header("Content-Type") == "text/csv; charset=utf-8"
    assert export.body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(export.body.decode("utf-8-sig"))))
    assert [r["name"] for r in rows] == ["east-tuesday.csv", "east-monday.csv"]
    assert bad.status == 400 and "since 'someday' is not a date" in bad.visible_text


def test_the_history_pages_fifty_files_and_jumps_to_a_page_keeping_the_filters(site):
    app, _, browser = site()
    for n in range(55):
        receive_bytes(app.db, app.settings.data_dir, Delivery(f"f{n:02}.csv", "web"), f"SKU,MF\nA{n},1\n".encode())

    first = browser.get("/history?transport=web")
    second = browser.get("/history?transport=web&page=2")
    past = browser.get("/history?transport=web&page=3")

    assert len(first.table_rows()) == 50 and "page 1 of 2" in first.visible_text
    assert re.search(r'<form method="get" action="/history" class="jump"><input type="hidden" name="transport" '
                     r'value="web">', first.text)
    assert 'href="/history?transport=web&amp;page=2"' in first.text
    assert [row[2] for row in second.table_rows()] == ["f04.csv", "f03.csv", "f02.csv", "f01.csv", "f00.csv"]
    assert past.status == 400 and "page 3 does not exist: 55 files make 2 pages of 50" in past.visible_text


def test_a_held_file_is_released_from_its_page_and_its_stock_applied(site, stockgate, tmp_path):
    app, _, browser = site()
    file_id = held_file(stockgate, tmp_path)

    page = browser.get(f"/files/{file_id}")
    preview = browser.get(f"/files/{file_id}/preview")
    released = browser.post(f"/files/{file_id}/release", {"csrf_token": page.csrf_token()})
    after = browser.get(f"/files/{file_id}")

    assert "Release" in page.text and "Reject" in page.text
    assert preview.table_rows()[:3] == [["A1", "WEST", "5", "6", "2"], ["A2", "WEST", "5", "0", "-"],
                                        ["A3", "WEST", "5", "0", "-"]]
    assert "releasing it would do" in preview.visible_text
    assert (released.status, released.header("Location")) == (303, f"/files/{file_id}")
    assert (on_hand(app, "A1"), on_hand(app, "A2")) == ({"WEST": 6}, {"WEST": 0})
    assert "applied" in after.visible_text and 'action="/files/' + file_id + '/release"' not in after.text
    (entry,) = stockgate("audit", "--action", "file.release", "--json").json()["entries"]
    assert (entry["actor"], entry["target"]) == ("web:local", file_id)
    again = browser.post(f"/files/{file_id}/release", {"csrf_token": page.csrf_token()})
    assert again.status == 409 and "only a held file can be released" in again.visible_text


def test_a_held_file_rejected_from_its_page_applies_nothing_and_says_who_and_why(site, stockgate, tmp_path):
    app, _, browser = site()
    file_id = held_file(stockgate, tmp_path)

    token = browser.get(f"/files/{file_id}").csrf_token()
    rejected = browser.post(f"/files/{file_id}/reject", {"csrf_token": token, "reason": "<b>wrong</b> export"})
    page = browser.get(f"/files/{file_id}")

    assert rejected.status == 303
    assert on_hand(app, "A2") == {"WEST": 5}
    assert "rejected by web:local while held: <b>wrong</b> export; nothing applied" in page.visible_text
    assert "&lt;b&gt;wrong&lt;/b&gt;" in page.text
    assert stockgate("report", file_id, "--format", "json").json()["status"] == "rejected"


def test_a_viewer_sees_no_action_and_is_refused_the_posts(site, stockgate, tmp_path):
    app, server, browser = site()
    file_id = held_file(stockgate, tmp_path)
    admin_token = browser.get(f"/files/{file_id}").csrf_token()
    viewer(server, browser)

    page = browser.get(f"/files/{file_id}")
    token = server.app.state.sessions.get(browser.cookies["sg_session"]).csrf
    refused = [browser.post(f"/files/{file_id}/{action}", {"csrf_token": token})
               for action in ("release", "reject", "reprocess")]
    upload = browser.upload("/upload", {"csrf_token": token}, "x.csv", b"SKU,MF\nA1,1\n")

    assert page.status == 200 and "Held by the snapshot guard" in page.text
    assert "<button" not in page.text.split("</header>", 1)[1]   # no action button (the logout one is above)
    assert [r.status for r in refused] == [403, 403, 403] and upload.status == 403
    assert "this needs the operator role" in refused[0].visible_text
    assert on_hand(app, "A2") == {"WEST": 5} and admin_token
    assert stockgate("history", "--status", "held", "--json").json()["total"] == 1


def test_the_original_file_downloads_as_it_was_received(site, stockgate, tmp_path):
    _, _, browser = site()
    text = "SKU,MF\nA1,4\n"
    file_id = ingest(stockgate, tmp_path, "qu.csv", text)["file_id"]

    original = browser.get(f"/files/{file_id}/original")

    assert original.status == 200 and original.body == text.encode()
    assert original.header("Content-Disposition").startswith('attachment; filename="qu.csv"')
    assert browser.get("/files/20990101T000000-abcdef/original").status == 404


def test_a_file_name_with_markup_shows_literally_on_the_history_and_its_report(site, stockgate, tmp_path):
    app, _, browser = site()
    receive_bytes(app.db, app.settings.data_dir, Delivery("plain.csv", "web"), b"SKU,MF\nA2,1\n")
    file_id = receive_bytes(app.db, app.settings.data_dir, Delivery(HOSTILE, "web"), b"SKU,MF\nA1,1\n")

    history = browser.get("/history?name=script")
    report = browser.get(f"/files/{file_id}")
    preview = browser.get(f"/files/{file_id}/preview")   # still received: what its turn would do

    assert [row[2] for row in history.table_rows()] == [HOSTILE] and report.status == preview.status == 200
    for page in (history, report, preview):
        assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
        assert HOSTILE in page.visible_text and "49" not in page.visible_text.split("StockGate", 1)[0]


def test_the_issues_of_a_big_report_come_a_page_at_a_time(site, stockgate, tmp_path):
    _, _, browser = site()
    stockgate("set", "A1", "MF", "1")
    rows = "".join(f"UNKNOWN-{n:03},1\n" for n in range(450))
    file_id = ingest(stockgate, tmp_path, "many.csv", "SKU,MF\nA1,2\n" + rows)["file_id"]

    first = browser.get(f"/files/{file_id}")
    third = browser.get(f"/files/{file_id}?page=3")

    assert len(first.table_rows()) == 200 and "issues 1-200 of 450 (page 1 of 3)" in first.visible_text
    assert [row[1] for row in third.table_rows()][:2] == ["UNKNOWN-400", "UNKNOWN-401"]
    assert len(third.table_rows()) == 50
    assert browser.get(f"/files/{file_id}?page=4").status == 400


def test_a_dry_run_upload_shows_each_skus_before_and_after_and_receives_nothing(site, stockgate, tmp_path):
    app, _, browser = site()
    stockgate("set", "A1", "EAST", "2")
    workbook = Workbook()
    workbook.active.title = "Notes"
    workbook.active.append(["nothing here"])
    sheet = workbook.create_sheet("Counts")
    sheet.append(["SKU", "Qty"])
    sheet.append(["A1", 9])
    buffer = io.BytesIO()
    workbook.save(buffer)
    token = browser.get("/upload").csrf_token()

    dry = browser.upload("/upload", {"csrf_token": token, "warehouse": "east", "mode": "partial", "sheet": "Counts",
                                     "dry_run": "1"}, "counts.xlsx", buffer.getvalue())
    bad = browser.upload("/upload", {"csrf_token": token, "warehouse": "EAST", "as_of": "yesterday"}, "x.csv",
                         b"SKU,Qty\nA1,1\n")

    assert dry.status == 200 and dry.table_rows(0) and ["A1", "EAST", "2", "9", "2"] in dry.table_rows()
    assert "A dry run: nothing was applied or recorded" in dry.visible_text
    assert on_hand(app, "A1") == {"EAST": 2} and stockgate("history", "--json").json()["total"] == 0
    assert bad.status == 400 and "as-of 'yesterday' is not an ISO-8601 time" in bad.visible_text
    assert 'value="yesterday"' in bad.text    # the form comes back as it was filled


def test_an_upload_with_an_as_of_and_a_sheet_is_received_with_them(site, stockgate, tmp_path):
    received = []
    app, _, browser = site(on_received=received.append)
    token = browser.get("/upload").csrf_token()

    answer = browser.upload("/upload", {"csrf_token": token, "warehouse": "EAST", "mode": "delta",
                                        "as_of": "2026-01-02T03:04:05", "sheet": "Stock",
                                        "create_unknown_skus": "1"}, "moves.csv", b"SKU,Qty\nN1,+3\n")

    assert answer.status == 303 and received == [answer.header("Location").rsplit("/", 1)[1]]
    (listed,) = stockgate("history", "--json").json()["files"]
    assert (listed["transport"], listed["warehouse"], listed["mode"], listed["as_of"]) == (
        "web", "EAST", "delta", "2026-01-02T03:04:05+00:00")
    page = browser.get(answer.header("Location"))
    assert "Stock" in dict((k.strip(), v) for k, v in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page.text))["Sheet"]


def test_the_templates_page_downloads_the_template_for_the_warehouses_ticked(site, stockgate):
    _, _, browser = site()
    stockgate("set", "A1", "EAST", "4")
    stockgate("set", "A1", "WEST", "7")

    page = browser.get("/templates")
    east = browser.get("/template.csv?warehouse=east")
    both = browser.get("/template.xlsx?warehouse=WEST&warehouse=EAST")
    unknown = browser.get("/template.csv?warehouse=NORTH")

    assert 'name="warehouse" value="EAST"' in page.text and 'formaction="/template.csv"' in page.text
    assert east.body.decode("utf-8-sig").splitlines() == ["SKU,Title,EAST", "A1,,4"]
    sheet = load_workbook(io.BytesIO(both.body)).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [["SKU", "Title", "WEST", "EAST"], ["A1", None, 7, 4]]
    assert unknown.status == 400 and "unknown warehouse 'NORTH'" in unknown.visible_text
