"""One item as its page shows it (`gateway.stock.inventory.item_detail`): every warehouse, available, its
listings on every channel with their link state, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.db import schema
from gateway.errors import NotFoundError
from gateway.stock import set_stock
from gateway.stock.inventory import item_detail


def test_an_item_page_shows_every_warehouse_its_available_its_listings_and_its_ledger(two_sandboxes):
    ch = two_sandboxes
    db = ch.jobs.db
    with db.write() as conn:
        conn.execute(schema.warehouses.insert().values(code="RES", name="Reserve", kind="merchant", priority=200,
                                                       sellable=False, created_at=datetime.now(UTC)))
        conn.execute(schema.warehouses.insert().values(code="EAST", name="East", kind="3pl", priority=50,
                                                       sellable=True, created_at=datetime.now(UTC)))
        set_stock(conn, "HAT-1", "MF", 4)
        set_stock(conn, "HAT-1", "RES", 10)
    ch.sandbox("amz").add_listing("A-1", "HAT-1", 4)
    ch.sandbox("shop").add_listing("S-1", "HAT-1", 4, size="M")
    ch.sandbox("shop").add_listing("S-2", "HAT-1", 0, size="M")
    ch.jobs.sync("amz")
    ch.jobs.sync("shop")
    ch.jobs.push_now("amz")
    with db.read() as conn:
        item = item_detail(conn, "HAT-1")
    assert [(lv["warehouse"], lv["on_hand"], lv["sellable"]) for lv in item["levels"]] == [
        ("MF", 4, True), ("EAST", None, True), ("RES", 10, False)]
    assert (item["available"], item["ledger_entries"], item["size"]) == (4, 2, None)
    assert [(l["channel"], l["listing_id"], l["link"], l["link_reason"]) for l in item["listings"]] == [
        ("amz", "A-1", "linked", None), ("shop", "S-1", "linked", None),
        ("shop", "S-2", "unlinked", "CHANNEL_ALREADY_LINKED")]
    with db.read() as conn, pytest.raises(NotFoundError, match="StockGate has no item 'HAT-9'"):
        item_detail(conn, "HAT-9")
