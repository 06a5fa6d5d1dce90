"""The `orders` and `restore-decision` commands, as an operator runs them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from order_helpers import order

from gateway.accounts import audit
from gateway.clock import now
from gateway.orders import CancellationData, record_cancellation, record_order
from gateway.stock import set_stock

CONFIG = """
[[warehouses]]
code = "EAST"
priority = 1

[[warehouses]]
code = "WEST"
priority = 2

[[channels]]
name = "shop"
marketplace = "shopify"
adapter = "sandbox"
restore_policy = "smart"
"""


def recent(order_id: str, *lines: tuple[str, str, int]):
    """An accepted order placed an hour ago, well inside the 14-day window."""
    return order(order_id, "accepted", *lines, placed_at=now() - timedelta(hours=1))


@pytest.fixture
def shop(stockgate, write_config, db):
    """Initialised StockGate with channel `shop` and order S1 of 3 x A1 taken from EAST (2) and WEST (1)."""
    assert stockgate("init", config=write_config(CONFIG)).code == 0
    with db.write() as conn:
        set_stock(conn, "A1", "EAST", 2)
        set_stock(conn, "A1", "WEST", 5)
        record_order(conn, "shop", recent("S1", ("L1", "A1", 3)))
    return stockgate


def _a1(stockgate) -> dict:
    return stockgate("stock", "A1", "--json").json()["items"][0]["warehouses"]


def test_orders_lists_the_order_with_what_it_took(shop):
    result = shop("orders", "--json")
    assert result.code == 0
    [listed] = result.json()["orders"]
    assert (listed["channel"], listed["order_id"], listed["status"], listed["taken"]) == ("shop", "S1", "accepted", 3)
    text = shop("orders", "--channel", "shop")
    assert "S1" in text.out and "accepted" in text.out


def test_orders_filter_by_status_and_page_newest_first_with_the_total(shop, db):
    with db.write() as conn:
        for n in range(2, 6):
            record_order(conn, "shop", order(f"S{n}", "pending", ("L1", "A1", 1),
                                             placed_at=now() - timedelta(minutes=60 - n)))
    pending = shop("orders", "--status", "pending", "--limit", "2", "--offset", "1", "--json").json()
    assert [o["order_id"] for o in pending["orders"]] == ["S4", "S3"]
    assert pending["total"] == 4
    assert shop("orders", "--status", "accepted", "--json").json() == {
        "orders": [shop("orders", "--json").json()["orders"][-1]], "total": 1}
    text = shop("orders", "--limit", "2")
    assert "orders 1-2 of 5" in text.out
    refused = shop("orders", "--limit", "0")
    assert refused.code == 2 and "page size 0 must be 1 to 1000" in refused.err


def test_orders_for_an_unknown_channel_exits_2_naming_it(shop):
    result = shop("orders", "--channel", "nope")
    assert result.code == 2
    assert result.err.strip() == "stockgate: error: unknown channel 'nope' (known: shop)"


def test_cancel_with_restore_gives_the_units_back_to_their_warehouses(shop):
    result = shop("orders", "cancel", "shop", "S1", "--restore", "--reason", "customer asked by phone")
    assert result.code == 0, result
    assert "A1 +2 to EAST" in result.out and "A1 +1 to WEST" in result.out
    assert _a1(shop) == {"EAST": 2, "WEST": 5}
    assert shop("orders", "--json").json()["orders"][0]["status"] == "cancelled"


def test_cancel_with_no_restore_keeps_the_stock_as_it_is(shop):
    result = shop("orders", "cancel", "shop", "S1", "--no-restore", "--json")
    assert result.code == 0
    assert (result.json()["restore"], result.json()["rule"]) == (False, "operator_choice")
    assert _a1(shop) == {"EAST": 0, "WEST": 4}


def test_cancel_without_restore_or_no_restore_is_refused_and_nothing_is_assumed(shop):
    result = shop("orders", "cancel", "shop", "S1")
    assert result.code == 2
    assert "--restore" in result.err and "--no-restore" in result.err
    assert _a1(shop) == {"EAST": 0, "WEST": 4}
    assert shop("orders", "--json").json()["orders"][0]["status"] == "accepted"


def test_cancel_twice_gives_back_once_and_says_nothing_changed(shop, db):
    assert shop("orders", "cancel", "shop", "S1", "--restore").code == 0
    again = shop("orders", "cancel", "shop", "S1", "--restore")
    assert again.code == 0 and "nothing changed" in again.out
    assert _a1(shop) == {"EAST": 2, "WEST": 5}
    [entry] = audit.entries(db, action="order.cancel")      # the audit log has the one that changed something
    assert entry.actor.startswith("cli:") and entry.target == "shop/S1"
    assert (entry.detail["choice"], entry.detail["restore"]) == ("restore", True)


def test_cancel_of_one_line_leaves_the_other_line_taken(shop, db):
    with db.write() as conn:
        set_stock(conn, "B1", "MF", 3)
        record_order(conn, "shop", recent("S2", ("L1", "A1", 1), ("L2", "B1", 2)))
    result = shop("orders", "cancel", "shop", "S2", "--restore", "--line", "L2")
    assert result.code == 0
    assert shop("stock", "B1", "--json").json()["items"][0]["warehouses"] == {"MF": 3}
    assert _a1(shop) == {"EAST": 0, "WEST": 3}
    assert shop("orders", "cancel", "shop", "S2", "--restore", "--line", "L9").code == 2


def test_cancel_of_an_unknown_order_exits_2_with_one_line(shop):
    result = shop("orders", "cancel", "shop", "NOPE", "--restore")
    assert result.code == 2
    assert result.err.strip() == "stockgate: error: channel 'shop' has no order 'NOPE'"


def test_explain_tells_whether_and_why_a_cancellation_restored(shop, db):
    with db.write() as conn:
        record_order(conn, "shop", recent("S3", ("L1", "A1", 1)))
    with db.write() as conn:
        record_cancellation(conn, "shop", CancellationData("S3", now(), "marketplace", "inventory"))
    explained = shop("orders", "explain", "shop", "S3", "--json").json()
    why = explained["lines"][0]["cancellation"]
    assert (why["restore"], why["rule"], why["reason_verdict"]) == (False, "smart_reason_table", "no")
    text = shop("orders", "explain", "shop", "S3")
    assert text.code == 0
    assert "'inventory' (Inventory Out Of Stock) reads No in the shopify table" in text.out
    assert "took 1 from WEST" in text.out


def test_restore_decision_prints_the_decision_as_json(shop):
    result = shop("restore-decision", "--marketplace", "shopify", "--policy", "smart", "--reason", "Order is fraudulent",
                  "--placed-at", "2026-03-01T10:00:00Z", "--cancelled-at", "2026-03-02T10:00:00Z",
                  "--where", "marketplace", "--json")
    assert result.code == 0
    decision = result.json()
    assert {k: decision[k] for k in ("restore", "rule", "reason_verdict")} == {
        "restore": True, "rule": "smart_reason_table", "reason_verdict": "yes"}
    assert "Order Is Fraudulent" in decision["explanation"]


def test_restore_decision_after_14_days_never_restores_even_when_the_operator_asks(shop):
    result = shop("restore-decision", "--marketplace", "amazon", "--policy", "always",
                  "--placed-at", "2026-03-01T10:00:00Z", "--cancelled-at", "2026-03-15T10:00:01Z",
                  "--where", "stockgate", "--choice", "restore", "--json")
    assert result.json()["restore"] is False and result.json()["rule"] == "older_than_14_days"


@pytest.mark.parametrize("args, message", [
    (["--where", "stockgate", "--placed-at", "2026-03-01T10:00:00Z", "--cancelled-at", "2026-03-02T10:00:00Z"],
     "--choice restore or --choice keep"),
    (["--where", "marketplace", "--placed-at", "yesterday", "--cancelled-at", "2026-03-02T10:00:00Z"],
     "--placed-at 'yesterday' is not an ISO-8601 time"),
])
def test_restore_decision_refuses_a_missing_choice_or_a_bad_time_with_exit_2(shop, args, message):
    result = shop("restore-decision", "--marketplace", "amazon", "--policy", "smart", *args, "--json")
    assert result.code == 2 and result.out == ""
    assert message in result.err and len(result.err.strip().splitlines()) == 1
