"""Orders and cancellations pulled from a sandbox marketplace reach stock once and every channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from gateway.db import schema
from gateway.stock import stock_view


def _available(ch, sku: str) -> int:
    with ch.jobs.db.read() as conn:
        return stock_view(conn, [sku])[0]["available"]


def _linked_on_both(ch, quantity: int = 10) -> None:
    ch.set("HAT", "MF", quantity)
    ch.sandbox("amz").add_listing("A-1", "HAT", quantity)
    ch.sandbox("shop").add_listing("S-1", "HAT", quantity)
    for name in ("amz", "shop"):
        ch.jobs.sync(name)
        ch.jobs.push_now(name)


def test_an_order_on_one_channel_lowers_the_quantity_on_the_other(two_sandboxes):
    ch = two_sandboxes
    _linked_on_both(ch)
    ch.sandbox("amz").place_order("O-1", [("HAT", 3)])
    outcome = ch.jobs.pull("amz")
    assert (outcome.orders, outcome.changed) == (1, 1)
    ch.jobs.push_now("shop")
    assert _available(ch, "HAT") == 7 and ch.shown("shop") == {"S-1": 7}


def test_pulling_the_same_orders_twice_takes_stock_once(two_sandboxes):
    ch = two_sandboxes
    _linked_on_both(ch)
    ch.sandbox("amz").place_order("O-1", [("HAT", 2)])
    ch.jobs.pull("amz")
    with ch.jobs.db.write() as conn:               # forget the cursor: the marketplace repeats itself
        conn.execute(schema.channels.update().values(order_cursor=None))
    again = ch.jobs.pull("amz")
    assert (again.orders, again.changed) == (1, 0)
    assert _available(ch, "HAT") == 8
    with ch.jobs.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(schema.orders)).scalar_one() == 1


def test_a_pending_order_takes_stock_only_once_it_is_accepted(two_sandboxes):
    ch = two_sandboxes
    _linked_on_both(ch)
    market = ch.sandbox("amz")
    market.place_order("O-1", [("HAT", 4)], pending=True)
    ch.jobs.pull("amz")
    assert _available(ch, "HAT") == 10
    market.accept_order("O-1")
    ch.jobs.pull("amz")
    ch.jobs.pull("amz")
    assert _available(ch, "HAT") == 6


def test_under_smart_no_inventory_restores_nothing_and_buyer_canceled_restores(two_sandboxes):
    ch = two_sandboxes
    _linked_on_both(ch)
    market = ch.sandbox("amz")
    market.place_order("O-1", [("HAT", 2)])
    market.place_order("O-2", [("HAT", 3)])
    ch.jobs.pull("amz")
    market.cancel_order("O-1", reason="No Inventory")
    market.cancel_order("O-2", reason="Buyer Canceled")
    outcome = ch.jobs.pull("amz")
    assert (outcome.cancellations, outcome.restored) == (2, 1)
    assert _available(ch, "HAT") == 8
    for name in ("amz", "shop"):
        ch.jobs.push_now(name)
    assert ch.shown("amz") == {"A-1": 8} and ch.shown("shop") == {"S-1": 8}


def test_an_order_placed_accepted_and_cancelled_between_two_pulls_follows_the_reason(two_sandboxes):
    ch = two_sandboxes
    _linked_on_both(ch)
    market = ch.sandbox("amz")
    market.place_order("O-1", [("HAT", 2)])
    market.cancel_order("O-1", reason="No Inventory")
    ch.jobs.pull("amz")
    assert _available(ch, "HAT") == 8


def test_a_line_cancellation_restores_only_that_line(two_sandboxes):
    ch = two_sandboxes
    _linked_on_both(ch)
    ch.set("CAP", "MF", 5)
    market = ch.sandbox("amz")
    order = market.place_order("O-1", [("HAT", 2), ("CAP", 1)])
    ch.jobs.pull("amz")
    market.cancel_order("O-1", reason="Buyer Canceled", line_ids=[order["lines"][1]["line_id"]])
    ch.jobs.pull("amz")
    assert (_available(ch, "HAT"), _available(ch, "CAP")) == (8, 5)


def test_a_cancellation_more_than_14_days_after_the_order_restores_nothing(two_sandboxes):
    ch = two_sandboxes
    _linked_on_both(ch)
    market = ch.sandbox("amz")
    placed = datetime.now(UTC) - timedelta(days=20)
    market.place_order("O-1", [("HAT", 2)], placed_at=placed)
    ch.jobs.pull("amz")
    market.cancel_order("O-1", reason="Buyer Canceled")
    ch.jobs.pull("amz")
    assert _available(ch, "HAT") == 8


def test_an_order_the_services_refuse_is_reported_and_does_not_block_the_others(two_sandboxes):
    ch = two_sandboxes
    _linked_on_both(ch)
    market = ch.sandbox("amz")
    market.place_order("O-BAD", [("   ", 1)])
    market.place_order("O-2", [("HAT", 1)])
    outcome = ch.jobs.pull("amz")
    assert len(outcome.problems) == 1 and "O-BAD" in outcome.problems[0]
    assert _available(ch, "HAT") == 9


def test_sandbox_cli_drives_orders_and_channels_pull_records_them(two_sandboxes, stockgate):
    ch = two_sandboxes
    _linked_on_both(ch)
    assert stockgate("sandbox", "order", "amz", "O-9", "HAT:2", config=ch.config).code == 0
    pulled = stockgate("channels", "pull", "amz", "--json")
    assert pulled.code == 0 and pulled.json()["orders"] == 1
    shown = stockgate("sandbox", "show", "amz", "--json").json()
    assert [(o["order_id"], o["status"]) for o in shown["orders"]] == [("O-9", "accepted")]
    assert shown["listings"] == [{"listing_id": "A-1", "sku": "HAT", "size": None, "title": None, "quantity": 10,
                                  "pushes": 1}]
    assert stockgate("channels", "push", "amz").code == 0
    assert stockgate("sandbox", "show", "amz", "--json").json()["listings"][0]["quantity"] == 8


def test_a_cancellation_dated_before_the_order_is_refused_the_order_kept_and_explained(two_sandboxes, stockgate,
                                                                                      caplog):
    ch = two_sandboxes
    _linked_on_both(ch)
    market = ch.sandbox("amz")
    placed = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    market.place_order("O-1", [("HAT", 2)], placed_at=placed)
    ch.jobs.pull("amz")
    market.cancel_order("O-1", reason="Buyer Canceled", at=placed - timedelta(hours=3))
    with caplog.at_level("WARNING", logger="gateway.channel_sync.order_pull"):
        outcome = ch.jobs.pull("amz")
    expected = ("channel amz: order amz/O-1: cancellation refused, the order is kept: cancelled at "
                "2026-11-20T09:00:00+00:00, before the order was placed at 2026-11-20T12:00:00+00:00: a "
                "cancellation cannot come before its order")
    assert outcome.problems == [expected] and outcome.cancellations == 0
    assert expected in caplog.messages
    assert _available(ch, "HAT") == 8                       # the order still holds its 2 units
    ch.jobs.pull("amz")                                      # delivered again: refused once, not twice

    explained = stockgate("orders", "explain", "amz", "O-1", "--json", config=ch.config).json()
    assert explained["status"] == "accepted" and explained["lines"][0]["status"] == "open"
    assert [(r["cancelled_at"], r["where"], r["reason"], r["lines"]) for r in explained["refused_cancellations"]] == [
        ("2026-11-20T09:00:00+00:00", "marketplace", "Buyer Canceled", None)]
    text = stockgate("orders", "explain", "amz", "O-1", config=ch.config).out
    assert ("A cancellation of the whole order from the marketplace was refused and the order kept as it was"
            in text and "before the order was placed at 2026-11-20T12:00:00+00:00" in text)
    decision = stockgate("restore-decision", "--marketplace", "amazon", "--policy", "smart", "--where",
                         "marketplace", "--placed-at", placed.isoformat(),
                         "--cancelled-at", (placed - timedelta(hours=3)).isoformat())
    assert decision.code == 2 and "earlier than --placed-at" in decision.err
