"""Orders take stock once and cancellations give it back by the rules, against SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from order_helpers import PLACED, levels_equal_ledger, on_hand, order
from sqlalchemy import select

from gateway.db import schema
from gateway.errors import NotFoundError, UsageError
from gateway.orders import CancellationData, explain_order, list_orders, record_cancellation, record_order
from gateway.stock import ledger_view, set_stock


@pytest.fixture
def east_west(db, add_warehouse, add_channel):
    """Channel `amz` (amazon, smart); EAST (priority 1) holds 2 of A1 and WEST (priority 2) holds 5."""
    add_warehouse("EAST", 1)
    add_warehouse("WEST", 2)
    add_channel("amz", "amazon", "smart")
    with db.write() as conn:
        set_stock(conn, "A1", "EAST", 2)
        set_stock(conn, "A1", "WEST", 5)
    return db


def cancel(order_id, *, after=timedelta(hours=2), where="marketplace", reason=None, lines=None, choice=None):
    return CancellationData(order_id, PLACED + after, where, reason, lines, choice)


def test_an_order_spread_over_two_warehouses_by_priority_is_given_back_to_those_two(east_west):
    db = east_west
    with db.write() as conn:
        outcome = record_order(conn, "amz", order("O1", "accepted", ("L1", "A1", 3)))
    assert [(m.warehouse, m.units) for m in outcome.taken] == [("EAST", 2), ("WEST", 1)]
    with db.read() as conn:
        assert on_hand(conn, "A1") == {"EAST": 0, "WEST": 4}
        taken = [(e["warehouse"], e["delta"], e["cause"], e["reference"]) for e in ledger_view(conn, "A1")[2:]]
        assert taken == [("EAST", -2, "order", "amz/O1/L1"), ("WEST", -1, "order", "amz/O1/L1")]

    with db.write() as conn:
        cancelled = record_cancellation(conn, "amz", cancel("O1", reason="BuyerCanceled"))
    assert cancelled.restore is True and cancelled.rule == "smart_reason_table"
    assert [(m.warehouse, m.units) for m in cancelled.restored] == [("EAST", 2), ("WEST", 1)]
    with db.read() as conn:
        assert on_hand(conn, "A1") == {"EAST": 2, "WEST": 5}
        given = [(e["warehouse"], e["delta"], e["cause"], e["reference"]) for e in ledger_view(conn, "A1")[4:]]
        assert given == [("EAST", 2, "cancel", "amz/O1/L1"), ("WEST", 1, "cancel", "amz/O1/L1")]
        assert list_orders(conn)[0]["status"] == "cancelled"
        assert levels_equal_ledger(conn)


def test_the_same_acceptance_delivered_twice_takes_stock_once(east_west):
    db = east_west
    with db.write() as conn:
        first = record_order(conn, "amz", order("O1", "accepted", ("L1", "A1", 3)))
    with db.write() as conn:
        again = record_order(conn, "amz", order("O1", "accepted", ("L1", "A1", 3)))
    assert first.changed and not again.changed
    with db.read() as conn:
        assert on_hand(conn, "A1") == {"EAST": 0, "WEST": 4}
        assert [o["order_id"] for o in list_orders(conn, "amz")] == ["O1"]


def test_the_same_cancellation_delivered_twice_gives_stock_back_once(east_west):
    db = east_west
    with db.write() as conn:
        record_order(conn, "amz", order("O1", "accepted", ("L1", "A1", 3)))
    for _ in range(2):
        with db.write() as conn:
            outcome = record_cancellation(conn, "amz", cancel("O1", reason="Buyer Canceled"))
    assert not outcome.changed and outcome.already_cancelled == ("L1",)
    with db.read() as conn:
        assert on_hand(conn, "A1") == {"EAST": 2, "WEST": 5}
        assert [e["cause"] for e in ledger_view(conn, "A1")].count("cancel") == 2   # EAST and WEST, once each


def test_a_pending_order_takes_nothing_until_accepted_and_then_takes_once(east_west):
    db = east_west
    deliveries = [("pending", {"EAST": 2, "WEST": 5}), ("pending", {"EAST": 2, "WEST": 5}),
                  ("accepted", {"EAST": 0, "WEST": 3}), ("accepted", {"EAST": 0, "WEST": 3}),
                  ("pending", {"EAST": 0, "WEST": 3})]
    for status, expected in deliveries:
        with db.write() as conn:
            record_order(conn, "amz", order("O1", status, ("L1", "A1", 4)))
        with db.read() as conn:
            assert on_hand(conn, "A1") == expected, status
    with db.read() as conn:
        assert list_orders(conn)[0]["status"] == "accepted"


def test_an_order_first_seen_cancelled_is_stored_and_takes_nothing(east_west):
    db = east_west
    with db.write() as conn:
        outcome = record_order(conn, "amz", order("O1", "cancelled", ("L1", "A1", 3)))
    with db.write() as conn:
        later = record_order(conn, "amz", order("O1", "accepted", ("L1", "A1", 3)))
    assert outcome.created and outcome.status == "cancelled" and later.status == "cancelled" and not later.taken
    with db.read() as conn:
        assert on_hand(conn, "A1") == {"EAST": 2, "WEST": 5}
        line = explain_order(conn, "amz", "O1")["lines"][0]
        assert line["cancellation"]["rule"] == "not_accepted" and line["cancellation"]["restore"] is False


def test_cancelling_one_line_gives_back_only_its_units_and_the_last_line_cancels_the_order(east_west):
    db = east_west
    with db.write() as conn:
        set_stock(conn, "B1", "WEST", 4)
        record_order(conn, "amz", order("O1", "accepted", ("L1", "A1", 1), ("L2", "B1", 2)))
    with db.write() as conn:
        first = record_cancellation(conn, "amz", cancel("O1", reason="Buyer Canceled", lines=("L2",)))
    with db.read() as conn:
        assert first.order_status == "accepted"
        assert (on_hand(conn, "A1"), on_hand(conn, "B1")) == ({"EAST": 1, "WEST": 5}, {"WEST": 4})
    with db.write() as conn:
        rest = record_cancellation(conn, "amz", cancel("O1", reason="Buyer Canceled"))
    assert rest.cancelled_lines == ("L1",) and rest.already_cancelled == ("L2",) and rest.order_status == "cancelled"
    with db.read() as conn:
        assert (on_hand(conn, "A1"), on_hand(conn, "B1")) == ({"EAST": 2, "WEST": 5}, {"WEST": 4})


def test_a_shortfall_is_oversold_and_an_unknown_sku_becomes_an_item_with_nothing_to_give(east_west):
    db = east_west
    with db.write() as conn:
        outcome = record_order(conn, "amz", order("O1", "accepted", ("L1", "A1", 9), ("L2", "NEW-1", 2)))
    assert outcome.oversold == 2 + 2
    with db.read() as conn:
        assert on_hand(conn, "A1") == {"EAST": 0, "WEST": 0}
        assert conn.execute(select(schema.items.c.sku).where(schema.items.c.sku == "NEW-1")).scalar() == "NEW-1"
        listed = list_orders(conn)[0]
        assert (listed["units"], listed["taken"], listed["oversold"]) == (11, 7, 4)
        assert [line["oversold"] for line in explain_order(conn, "amz", "O1")["lines"]] == [2, 2]


def test_a_non_sellable_warehouse_never_gives_to_an_order(db, add_warehouse, add_channel):
    add_warehouse("FBA", 0, sellable=False)
    add_channel("amz")
    with db.write() as conn:
        set_stock(conn, "A1", "FBA", 10)
        set_stock(conn, "A1", "MF", 1)
        outcome = record_order(conn, "amz", order("O1", "accepted", ("L1", "A1", 2)))
    assert outcome.oversold == 1
    with db.read() as conn:
        assert on_hand(conn, "A1") == {"MF": 0, "FBA": 10}


@pytest.mark.parametrize("after, restores", [
    (timedelta(days=14) - timedelta(seconds=1), True),
    (timedelta(days=14), True),
    (timedelta(days=14, seconds=1), False),
])
def test_the_14_day_rule_decides_before_the_policy_always(db, add_channel, after, restores):
    add_channel("amz", "amazon", "always")
    with db.write() as conn:
        set_stock(conn, "A1", "MF", 3)
        record_order(conn, "amz", order("O1", "accepted", ("L1", "A1", 3)))
        outcome = record_cancellation(conn, "amz", cancel("O1", after=after))
    assert outcome.rule == ("policy_always" if restores else "older_than_14_days")
    with db.read() as conn:
        assert on_hand(conn, "A1") == {"MF": 3 if restores else 0}


def test_a_cancellation_in_stockgate_without_the_operators_choice_is_refused_and_changes_nothing(east_west):
    db = east_west
    with db.write() as conn:
        record_order(conn, "amz", order("O1", "accepted", ("L1", "A1", 3)))
    with pytest.raises(UsageError, match="--restore or --no-restore"), db.write() as conn:
        record_cancellation(conn, "amz", cancel("O1", where="stockgate"))
    with db.read() as conn:
        assert on_hand(conn, "A1") == {"EAST": 0, "WEST": 4}
        assert list_orders(conn)[0]["open_lines"] == 1


def test_a_smart_no_reason_keeps_the_stock_and_the_line_remembers_why(east_west):
    db = east_west
    with db.write() as conn:
        record_order(conn, "amz", order("O1", "accepted", ("L1", "A1", 3)))
        record_cancellation(conn, "amz", cancel("O1", reason="NoInventory"))
    with db.read() as conn:
        assert on_hand(conn, "A1") == {"EAST": 0, "WEST": 4}
        why = explain_order(conn, "amz", "O1")["lines"][0]["cancellation"]
    assert (why["restore"], why["rule"], why["reason_verdict"], why["reason"]) == (
        False, "smart_reason_table", "no", "NoInventory")
    assert "No Inventory" in why["explanation"]


def test_allocations_keep_the_placement_time_and_the_restored_units(east_west):
    db = east_west
    with db.write() as conn:
        record_order(conn, "amz", order("O1", "accepted", ("L1", "A1", 3)))
        record_cancellation(conn, "amz", cancel("O1", reason="Buyer Canceled"))
    a = schema.allocations.c
    with db.read() as conn:
        rows = conn.execute(select(a.units, a.restored_units, a.placed_at).order_by(a.id)).all()
    assert [(r.units, r.restored_units) for r in rows] == [(2, 2), (1, 1)]
    assert all(r.placed_at.replace(tzinfo=None) == PLACED.replace(tzinfo=None) for r in rows)


def test_an_accepted_order_reported_cancelled_waits_for_its_cancellation_with_a_reason(east_west):
    db = east_west
    with db.write() as conn:
        record_order(conn, "amz", order("O1", "accepted", ("L1", "A1", 3)))
        outcome = record_order(conn, "amz", order("O1", "cancelled", ("L1", "A1", 3)))
    assert outcome.needs_cancellation and outcome.status == "accepted"
    with db.read() as conn:
        assert on_hand(conn, "A1") == {"EAST": 0, "WEST": 4}


def test_unknown_channels_orders_and_lines_are_named_in_the_error(east_west):
    db = east_west
    with db.write() as conn:
        record_order(conn, "amz", order("O1", "accepted", ("L1", "A1", 1)))
    with pytest.raises(NotFoundError, match="unknown channel 'ebay' \\(known: amz\\)"), db.write() as conn:
        record_order(conn, "ebay", order("O1", "accepted", ("L1", "A1", 1)))
    with pytest.raises(NotFoundError, match="channel 'amz' has no order 'O9'"), db.read() as conn:
        explain_order(conn, "amz", "O9")
    with pytest.raises(NotFoundError, match="has no line 'L7'"), db.write() as conn:
        record_cancellation(conn, "amz", cancel("O1", lines=("L7",)))
    with pytest.raises(UsageError, match="line 'L1': quantity -2"), db.write() as conn:
        record_order(conn, "amz", order("O2", "accepted", ("L1", "A1", -2)))


def test_two_deliveries_of_one_acceptance_at_the_same_moment_take_stock_once(east_west, concurrently):
    db = east_west

    def deliver(_):
        with db.write() as conn:
            record_order(conn, "amz", order("O1", "accepted", ("L1", "A1", 3)))

    assert concurrently(deliver, 4) == []
    with db.read() as conn:
        assert on_hand(conn, "A1") == {"EAST": 0, "WEST": 4}
        assert len(list_orders(conn)) == 1
        assert levels_equal_ledger(conn)


def test_an_order_line_over_the_quantity_limit_is_refused_and_takes_nothing(east_west):
    db = east_west
    with pytest.raises(UsageError, match="above the limit"), db.write() as conn:
        record_order(conn, "amz", order("O9", "accepted", ("L1", "A1", 10**20)))
    with db.read() as conn:
        assert on_hand(conn, "A1") == {"EAST": 2, "WEST": 5}
        assert list_orders(conn) == []
