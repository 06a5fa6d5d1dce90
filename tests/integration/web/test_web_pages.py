"""The read-only pages: history, reports (escaped, downloadable), inventory, listings, orders, dashboard."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from channels.base import RemoteListing
from web_client import evaluated_template, ingest

from gateway.channel_sync.listings import apply_listings
from gateway.orders import OrderData, OrderLineData
from gateway.orders.accept import record_order
from gateway.stock import set_stock, stock_view
from gateway.stock.titles import store_titles

HOSTILE_QU = "SKU,Title,MF,EAST\nA1,Widget,5,3\n<script>alert(1)</script>,x,1,1\n{{7*7}},y,2,2\n"


def test_history_lists_an_ingested_file_newest_first_with_its_status_and_counts(site, stockgate, tmp_path):
    app, _, browser = site()
    stockgate("set", "A1", "MF", "1")
    first = ingest(stockgate, tmp_path, "first.csv", "SKU,MF\nA1,4\n")
    second = ingest(stockgate, tmp_path, "second.csv", HOSTILE_QU)

    page = browser.get("/history")

    assert page.status == 200
    rows = page.table_rows()
    assert [r[0] for r in rows] == [second["file_id"], first["file_id"]]
    assert rows[0][2:] == ["second.csv", "-", "quantity update", "cli", "applied_with_errors", "3", "1", "2", "0"]
    assert rows[1][6] == "applied"
    assert f'href="/files/{second["file_id"]}"' in page.text


def test_history_filters_by_status_and_warehouse(site, stockgate, tmp_path):
    _, _, browser = site()
    stockgate("set", "A1", "MF", "1")
    applied = ingest(stockgate, tmp_path, "ok.csv", "SKU,MF\nA1,4\n")
    bad = ingest(stockgate, tmp_path, "bad.csv", HOSTILE_QU)       # a Quantity Update whose row 2 sets EAST
    east = ingest(stockgate, tmp_path, "east.csv", "SKU,Quantity\nA1,9\n", "--warehouse", "EAST")
    same = ingest(stockgate, tmp_path, "same.csv", "SKU,EAST\nA1,9\n")   # names EAST, changes nothing there

    by_status = browser.get("/history?status=applied").table_rows()
    by_warehouse = browser.get("/history?warehouse=EAST").table_rows()
    any_case = browser.get("/history?warehouse=east").table_rows()
    unknown_status = browser.get("/history?status=<b>")
    unknown_warehouse = browser.get("/history?warehouse=NOPE")

    assert {r[0] for r in by_status} == {applied["file_id"], east["file_id"], same["file_id"]}
    assert [r[0] for r in by_warehouse] == [east["file_id"], bad["file_id"]]
    assert any_case == by_warehouse
    assert unknown_status.status == 400 and "&lt;b&gt;" in unknown_status.text
    assert unknown_warehouse.status == 400 and "unknown warehouse" in unknown_warehouse.text


def test_report_page_shows_issue_values_literally_never_as_markup_or_evaluated(site, stockgate, tmp_path):
    _, _, browser = site()
    stockgate("set", "A1", "MF", "1")
    report = ingest(stockgate, tmp_path, "<img src=x>.csv", HOSTILE_QU)

    page = browser.get(f"/files/{report['file_id']}")

    assert page.status == 200
    assert "<script>alert(1)</script>" not in page.text and "<img src=x>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    issues = page.table_rows()
    assert [(i[0], i[1], i[2], i[3], i[5]) for i in issues] == [
        ("3", "<script>alert(1)</script>", "SKU", "<script>alert(1)</script>", "UNKNOWN_SKU"),
        ("4", "{{7*7}}", "SKU", "{{7*7}}", "UNKNOWN_SKU")]
    assert not evaluated_template(page.table_html())
    assert "Report: &lt;img src=x&gt;.csv" in page.text


def test_report_downloads_are_the_report_json_and_its_issues_csv(site, stockgate, tmp_path):
    _, _, browser = site()
    stockgate("set", "A1", "MF", "1")
    report = ingest(stockgate, tmp_path, "qu.csv", HOSTILE_QU)
    file_id = report["file_id"]

    as_json = browser.get(f"/files/{file_id}/report.json")
    as_csv = browser.get(f"/files/{file_id}/report.csv")

    assert as_json.status == 200 and json.loads(as_json.body) == stockgate("report", file_id, "--format", "json").json()
    assert f'filename="qu.csv.{file_id}.report.json"' in as_json.header("Content-Disposition")
    assert as_csv.body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(as_csv.body.decode("utf-8-sig"))))
    assert rows[0] == ["row", "SKU", "column", "value", "severity", "code", "message"]
    assert [r[1] for r in rows[1:]] == [r[3] for r in rows[1:]] == ["<script>alert(1)</script>", "{{7*7}}"]


def test_a_file_not_yet_processed_says_so_and_has_no_report_to_download(site, stockgate, tmp_path):
    from gateway.intake import Delivery, receive_bytes

    app, _, browser = site()
    file_id = receive_bytes(app.db, app.settings.data_dir, Delivery("wait.csv", "web"), b"SKU,MF\nA1,1\n")

    page = browser.get(f"/files/{file_id}")
    download = browser.get(f"/files/{file_id}/report.json")
    missing = browser.get("/files/20990101T000000-abcdef")

    assert page.status == 200 and "waiting to be processed" in page.text
    assert '<meta http-equiv="refresh"' in page.text
    assert download.status == 409 and "has not been processed yet" in download.text
    assert missing.status == 404 and "20990101T000000-abcdef" in missing.text


def test_inventory_page_shows_the_same_numbers_as_stock_view(site):
    app, _, browser = site()
    with app.db.write() as conn:
        for sku, warehouse, qty in [("A1", "MF", 5), ("A1", "EAST", 3), ("A1", "WEST", 7), ("B-100", "EAST", 2),
                                    ("00123", "MF", 1200)]:
            set_stock(conn, sku, warehouse, qty)
    with app.db.read() as conn:
        expected = stock_view(conn)

    page = browser.get("/stock")

    header = page.table_headers()
    assert header[:2] == ["SKU", "Title"] and header[-1] == "Available"
    assert sorted(header[2:-1]) == ["EAST", "MF", "WEST"]
    codes = header[2:-1]
    shown = [[sku, *[int(v.replace(",", "")) if v else None for v in rest]] for sku, _, *rest in page.table_rows()]
    assert shown == [[i["sku"], *[i["warehouses"].get(c) for c in codes], i["available"]] for i in expected]
    by_sku = {row[0]: dict(zip(header[2:], row[1:])) for row in shown}
    assert by_sku["00123"] == {"EAST": None, "WEST": None, "MF": 1200, "Available": 1200}
    assert by_sku["A1"] == {"EAST": 3, "WEST": 7, "MF": 5, "Available": 8}   # WEST is not sellable


def test_inventory_search_and_pages_of_fifty_skus_along_the_sku_index(site):
    app, _, browser = site()
    with app.db.write() as conn:
        for n in range(60):
            set_stock(conn, f"SKU-{n:03d}", "MF", n)
        set_stock(conn, "other_%", "MF", 4)
        store_titles(conn, {"SKU-007": "Red woollen hat"}, replace=True)

    first = browser.get("/stock")
    second = browser.get("/stock?after=SKU-049")
    back = browser.get("/stock?before=SKU-050")
    found = browser.get("/stock?q=sku-05")
    wildcard = browser.get("/stock?q=_%25")
    by_title = browser.get("/stock?q=WOOLLEN")

    assert len(first.table_rows()) == 50 and first.table_rows()[0][0] == "SKU-000"
    assert 'href="/stock?after=SKU-049"' in first.text and "previous" not in first.text
    assert [r[0] for r in second.table_rows()] == [*(f"SKU-{n:03d}" for n in range(50, 60)), "other_%"]
    assert 'href="/stock?before=SKU-050"' in second.text and "next" not in second.visible_text
    assert [r[0] for r in back.table_rows()] == [r[0] for r in first.table_rows()]
    assert [r[0] for r in found.table_rows()] == [f"SKU-05{n}" for n in range(10)]
    assert [r[0] for r in wildcard.table_rows()] == ["other_%"]
    assert [r[:2] for r in by_title.table_rows()] == [["SKU-007", "Red woollen hat"]]
    assert 'href="/item?sku=SKU-007"' in by_title.text


def test_listings_page_shows_link_state_reason_and_status_per_channel(site):
    app, _, browser = site('[[channels]]\nname = "shop"\nmarketplace = "shopify"\n'
                           '[[channels]]\nname = "amz"\nmarketplace = "amazon"\n')
    with app.db.write() as conn:
        set_stock(conn, "A1", "MF", 5)
        apply_listings(conn, "shop", [RemoteListing("L1", "A1"), RemoteListing("L2", "A1")], full=False, cursor=None)
        apply_listings(conn, "amz", [RemoteListing("X9", "<b>B2</b>", quantity=3)], full=False, cursor=None)

    every = browser.get("/listings")
    shop = browser.get("/listings?channel=shop")
    unknown = browser.get("/listings?channel=nope")

    rows = {(r[1], r[2]): r[1:] for r in every.table_rows()}   # the first cell: an operator's mark box
    assert rows[("shop", "L1")][4:7] == ["A1", "linked", "active"]
    assert rows[("shop", "L2")][5] == "unlinked (CHANNEL_ALREADY_LINKED)"
    assert rows[("amz", "X9")][2] == "<b>B2</b>" and "&lt;b&gt;B2&lt;/b&gt;" in every.text
    assert {r[1] for r in shop.table_rows()} == {"shop"}
    assert unknown.status == 404 and "no channel 'nope'" in unknown.visible_text


def test_orders_page_lists_orders_with_units_taken_and_oversold(site):
    app, _, browser = site('[[channels]]\nname = "shop"\nmarketplace = "shopify"\n')
    with app.db.write() as conn:
        set_stock(conn, "A1", "EAST", 2)
        record_order(conn, "shop", OrderData("S-1", datetime(2026, 3, 2, 9, tzinfo=UTC), "accepted",
                                             (OrderLineData("1", "A1", 3),)))

    rows = browser.get("/orders").table_rows()

    assert rows == [["shop", "S-1", "2026-03-02 09:00:00", "accepted", "1", "3", "2", "0", "1"]]


def test_dashboard_counts_files_skus_and_links_the_latest_files(site, stockgate, tmp_path):
    app, _, browser = site()
    stockgate("set", "A1", "MF", "1")
    stockgate("set", "B2", "EAST", "1")
    report = ingest(stockgate, tmp_path, "qu.csv", HOSTILE_QU)

    page = browser.get("/")

    assert page.status == 200
    assert "<strong>1</strong><span>Files received</span>" in page.text
    assert "<strong>2</strong><span>SKUs</span>" in page.text
    assert "applied with errors: 1" in page.text
    assert [r[0] for r in page.table_rows()] == [report["file_id"]]


def test_template_download_holds_every_sku_with_current_quantities(site):
    app, _, browser = site()
    with app.db.write() as conn:
        set_stock(conn, "00123", "EAST", 4)

    page = browser.get("/template.csv")

    assert page.status == 200 and "attachment" in page.header("Content-Disposition")
    assert page.body.startswith(b"\xef\xbb\xbf")
    header, *rows = csv.reader(io.StringIO(page.body.decode("utf-8-sig")))
    assert header[:2] == ["SKU", "Title"] and sorted(header[2:]) == ["EAST", "MF", "WEST"]
    assert [dict(zip(header, row)) for row in rows] == [{"SKU": "00123", "Title": "", "EAST": "4", "WEST": "0", "MF": "0"}]


def test_a_level_a_file_names_at_0_for_a_new_sku_shows_0_not_blank(site, stockgate, tmp_path):
    _, _, browser = site()
    ingest(stockgate, tmp_path, "new.csv", "SKU,Qty\nNEW-0,0\nNEW-5,5\n", "--warehouse", "EAST",
           "--create-unknown-skus")
    ingest(stockgate, tmp_path, "qu.csv", "SKU,MF,WEST\nNEW-5,0,0\n")

    items = {i["sku"]: i["warehouses"] for i in stockgate("stock", "--json").json()["items"]}
    assert items == {"NEW-0": {"EAST": 0}, "NEW-5": {"MF": 0, "EAST": 5, "WEST": 0}}
    page = browser.get("/stock")
    header = page.table_headers()
    by_sku = {row[0]: dict(zip(header[2:], row[2:])) for row in page.table_rows()}
    assert by_sku["NEW-0"]["EAST"] == "0" and by_sku["NEW-0"]["MF"] == ""
    assert by_sku["NEW-5"]["MF"] == "0" and by_sku["NEW-5"]["WEST"] == "0"
