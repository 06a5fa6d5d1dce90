"""The inventory as CSV (`/stock.csv`, linked from the inventory page) and the template download, streamed:
the export holds every matching SKU as the page shows it, and a big catalog's downloads are read from the
database and sent a batch at a time (the server's peak memory stays far under the catalog's size)."""

from __future__ import annotations

import csv
import http.client
import io
import tracemalloc
from datetime import UTC, datetime

from sqlalchemy import DateTime, bindparam, text

from gateway.stock import set_stock, stock_view

BIG = 100_000
MEMORY_BOUND = 8 * 1024 * 1024   # the template download held the whole catalog twice: about 60 MB for BIG


def test_the_inventory_csv_holds_every_sku_as_the_page_shows_it(site):
    app, _, browser = site()
    with app.db.write() as conn:
        for n in range(60):
            set_stock(conn, f"SKU-{n:03d}", "MF", n)
        for sku, warehouse, qty in [("A1", "EAST", 3), ("A1", "WEST", 7), ("=cmd", "MF", 2)]:
            set_stock(conn, sku, warehouse, qty)
    with app.db.read() as conn:
        expected = stock_view(conn)

    page = browser.get("/stock")
    export = browser.get("/stock.csv")
    found = browser.get("/stock.csv?q=sku-05")

    assert 'href="/stock.csv"' in page.text and 'href="/stock.csv?q=sku-05"' in browser.get("/stock?q=sku-05").text
    assert export.status == 200 and export.header("Content-Type") == "text/csv; charset=utf-8"
    assert 'attachment; filename="inventory.csv"' in export.header("Content-Disposition")
    assert export.body.startswith(b"\xef\xbb\xbf") and int(export.header("Content-Length")) == len(export.body)
    header, *rows = csv.reader(io.StringIO(export.body.decode("utf-8-sig")))
    assert header == ["SKU", "MF", "EAST", "WEST", "Available"]
    codes = header[1:-1]
    # every SKU (not one page of 50), the same figures as the page; no level: an empty cell, as on the page
    assert rows == [[i["sku"] if not i["sku"].startswith("=") else "'" + i["sku"],
                     *[str(i["warehouses"].get(c, "")) for c in codes], str(i["available"])] for i in expected]
    assert ["'=cmd", "2", "", "", "2"] in rows and ["A1", "", "3", "7", "3"] in rows   # never a live formula
    assert [r[0] for r in csv.reader(io.StringIO(found.body.decode("utf-8-sig")))][1:] == \
        [f"SKU-05{n}" for n in range(10)]


def _big(app, count: int) -> None:
    now = bindparam("now", datetime.now(UTC), type_=DateTime(timezone=True))
    with app.db.write() as conn:
        conn.execute(text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
                          "INSERT INTO items (sku, title, created_at) "
                          "SELECT 'SKU-' || (1000000 + i), 'Item ' || i, :now FROM n").bindparams(now, count=count))
        conn.execute(text("INSERT INTO stock_levels (item_id, warehouse_id, on_hand, updated_at) "
                          "SELECT items.id, warehouses.id, warehouses.priority + 2, :now FROM items, warehouses")
                     .bindparams(now))


def _download(port: int, path: str) -> tuple[int, int, bytes]:
    """(status, lines, last line) of a download read a block at a time (the client keeps none of it)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        conn.request("GET", path)
        answer = conn.getresponse()
        lines, tail = 0, b""
        while block := answer.read(1 << 16):
            lines += block.count(b"\n")
            tail = (tail + block)[-200:]
        return answer.status, lines, tail.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
    finally:
        conn.close()


def test_a_big_catalogs_downloads_are_sent_as_they_are_read(site):
    app, server, _ = site()
    _big(app, BIG)
    tracemalloc.start()
    try:
        template = _download(server.port, "/template.csv")
        template_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        export = _download(server.port, "/stock.csv")
        export_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert template == (200, BIG + 1, f"SKU-{1_000_000 + BIG},Item {BIG},2,3,4".encode())
    assert export == (200, BIG + 1, f"SKU-{1_000_000 + BIG},2,3,4,5".encode())
    assert template_peak < MEMORY_BOUND, f"peak {template_peak / 1e6:.1f} MB"
    assert export_peak < MEMORY_BOUND, f"peak {export_peak / 1e6:.1f} MB"
