"""as_of and cancelled orders: units an order took and still holds are subtracted from an older snapshot,
whatever the order's status now; units a cancellation gave back are not."""

from __future__ import annotations

from datetime import timedelta

from pipeline_helpers import ingest, stock

from gateway.clock import iso, now
from gateway.db.engine import make_database
from gateway.orders import OrderData, OrderLineData, record_order
from gateway.stock import set_stock

SHOP = """
[[warehouses]]
code = "EAST"
priority = 1

[[channels]]
name = "shop"
marketplace = "shopify"
adapter = "sandbox"
restore_policy = "smart"
"""


def test_a_cancelled_order_that_kept_its_stock_is_still_subtracted_and_a_restored_one_is_not(
        stockgate, write_config, database_url, files):
    assert stockgate("init", config=write_config(SHOP)).code == 0
    placed = now() - timedelta(hours=1)
    db = make_database(database_url)
    with db.write() as conn:
        for sku in ("A1", "A2", "A3"):
            set_stock(conn, sku, "EAST", 10)
        for order_id, sku in (("KEPT", "A1"), ("RESTORED", "A2"), ("OPEN", "A3")):
            record_order(conn, "shop", OrderData(order_id, placed, "accepted", (OrderLineData("L1", sku, 3),)))
    db.dispose()
    assert stockgate("orders", "cancel", "shop", "KEPT", "--no-restore").code == 0
    assert stockgate("orders", "cancel", "shop", "RESTORED", "--restore").code == 0
    assert stock(stockgate) == {"A1": {"EAST": 7}, "A2": {"EAST": 10}, "A3": {"EAST": 7}}

    # a snapshot counted before the three orders were placed still shows 10 of each
    code, report = ingest(stockgate, files.csv("east.csv", "SKU,Qty\nA1,10\nA2,10\nA3,10\n"), "--warehouse", "EAST",
                          "--as-of", iso(placed - timedelta(hours=1)))

    assert code == 0, report
    assert stock(stockgate) == {"A1": {"EAST": 7}, "A2": {"EAST": 10}, "A3": {"EAST": 7}}
    adjusted = [(i["row"], i["code"]) for i in report["issues"]]
    assert adjusted == [(2, "ORDER_ADJUSTMENT"), (4, "ORDER_ADJUSTMENT")]   # A1 (cancelled, kept) and A3 (open)
