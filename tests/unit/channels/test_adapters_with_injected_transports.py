"""Adapters against plain functions standing in for the network: translation of answers and errors."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from channels.errors import PermanentChannelError, RetryableChannelError
from channels.feed_orders import OrderFileError, parse_order_file
from channels.sandbox import SandboxAdapter
from gateway.channel_sync.adapters import feed_columns
from gateway.channel_sync.pusher import Backoff
from gateway.errors import ConfigError


def test_the_sandbox_adapter_turns_answers_into_listings_orders_and_cancellations():
    answers = {
        "list_listings": {"listings": [{"listing_id": "L1", "sku": "A1", "size": "M", "quantity": 3, "title": None}],
                          "cursor": "1", "more": False},
        "fetch_orders": {"orders": [{"order_id": "O1", "placed_at": "2026-11-20T10:00:00+00:00", "status": "cancelled",
                                     "accepted_at": "2026-11-20T10:00:00+00:00",
                                     "lines": [{"line_id": "1", "sku": "A1", "quantity": 2}]}],
                         "cancellations": [{"order_id": "O1", "cancelled_at": "2026-11-21T10:00:00+00:00",
                                            "reason": "Buyer Canceled", "line_ids": None}], "cursor": "3"},
    }
    calls = []

    def transport(operation, payload):
        calls.append((operation, payload))
        return answers[operation]

    adapter = SandboxAdapter("amz", transport)
    page = adapter.list_listings("0", False)
    assert [(l.listing_id, l.sku, l.size, l.quantity) for l in page.listings] == [("L1", "A1", "M", 3)]
    orders = adapter.fetch_orders(None)
    order = orders.orders[0]
    assert (order.status, order.placed_at, order.lines[0].quantity) == (
        "accepted", datetime(2026, 11, 20, 10, tzinfo=UTC), 2)      # paid before it was cancelled
    cancellation = orders.cancellations[0]
    assert (cancellation.where, cancellation.reason, cancellation.line_ids) == ("marketplace", "Buyer Canceled", None)
    assert calls[0] == ("list_listings", {"cursor": "0", "full": False})


def test_a_transport_timeout_is_retryable_and_a_refusal_is_permanent():
    def timing_out(operation, payload):
        raise TimeoutError("no answer in 30 s")

    def refusing(operation, payload):
        raise ValueError("listing not found")

    with pytest.raises(RetryableChannelError, match="no answer in 30 s") as caught:
        SandboxAdapter("amz", timing_out).push_quantities([("L1", 3)])
    assert isinstance(caught.value.__cause__, TimeoutError)
    with pytest.raises(PermanentChannelError, match="refused: listing not found"):
        SandboxAdapter("amz", refusing).fetch_orders(None)


def test_a_listing_the_marketplace_refuses_fails_alone_and_permanently():
    def transport(operation, payload):
        return {"results": [{"listing_id": "L1", "ok": True, "error": None},
                            {"listing_id": "L2", "ok": False, "error": "listing not found"}]}

    results = SandboxAdapter("amz", transport).push_quantities([("L1", 3), ("L2", 4), ("L3", 5)])
    assert [(r.listing_id, r.ok, r.retryable) for r in results] == [
        ("L1", True, False), ("L2", False, False), ("L3", False, True)]


def test_an_order_file_groups_lines_and_cancels_the_cancelled_rows():
    data = ("Order ID,SKU,Qty,Placed At,Status,Cancel Reason,Cancelled At\n"
            "O1,A1,2,2026-11-20T10:00:00Z,accepted,,\n"
            "O1,B2,1,2026-11-20T10:00:00Z,cancelled,Buyer Canceled,2026-11-21T08:00:00Z\n"
            "O2,A1,1,2026-11-20T11:00:00,pending,,\n").encode("utf-8-sig")
    orders, cancellations = parse_order_file(data, "day.csv")
    assert [(o.order_id, o.status, [(l.line_id, l.quantity) for l in o.lines]) for o in orders] == [
        ("O1", "accepted", [("A1", 2), ("B2", 1)]), ("O2", "pending", [("A1", 1)])]
    assert [(c.order_id, c.reason, c.line_ids, c.cancelled_at.day) for c in cancellations] == [
        ("O1", "Buyer Canceled", ("B2",), 21)]



def test_an_order_file_that_cancels_every_row_it_lists_names_those_lines_not_the_whole_order():
    data = ("order_id,sku,qty,placed_at,status,cancel_reason,cancelled_at\n"
            "O1,B2,1,2026-11-20T10:00:00Z,cancelled,Buyer Canceled,2026-11-21T08:00:00\n").encode()
    _, cancellations = parse_order_file(data, "later.csv")
    assert [(c.order_id, c.line_ids, c.cancelled_at.isoformat()) for c in cancellations] == [
        ("O1", ("B2",), "2026-11-21T08:00:00+00:00")]

@pytest.mark.parametrize("content, message", [
    ("order_id,sku,placed_at\nO1,A1,2026-11-20\n", "row 1: missing column(s) qty"),
    ("order_id,sku,qty,placed_at\nO1,A1,1.5,2026-11-20\n", "row 2: column qty: '1.5'"),
    ("order_id,sku,qty,placed_at\nO1,A1,1,last week\n", "row 2: column placed_at: 'last week'"),
    ("order_id,sku,qty,placed_at,status\nO1,A1,1,2026-11-20,shipped\n", "column status: 'shipped'"),
    ("order_id,sku,qty,placed_at\nO1,A1,1,2026-11-20\nO1,A1,2,2026-11-20\n", "has line 'A1' twice"),
])
def test_a_bad_order_file_is_refused_whole_with_a_message_naming_row_column_and_value(content, message):
    with pytest.raises(OrderFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_order_file(content.encode(), "bad.csv")


def test_feed_columns_accept_a_list_or_a_table_and_name_an_unknown_field():
    assert feed_columns(["sku", "quantity"], "f") == [("sku", "sku"), ("quantity", "quantity")]
    assert feed_columns({"SellerSKU": "sku", "Qty": "quantity"}, "f") == [("SellerSKU", "sku"), ("Qty", "quantity")]
    with pytest.raises(ConfigError, match="'price' is not one of"):
        feed_columns(["sku", "price"], "f")


def test_backoff_doubles_with_jitter_and_stops_at_the_cap():
    backoff, rng = Backoff(base_seconds=1, max_seconds=10), random.Random(3)
    delays = [backoff.delay(n, rng) for n in range(1, 8)]
    ceilings = [1, 2, 4, 8, 10, 10, 10]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings))
    assert len({round(backoff.delay(3, random.Random(seed)), 6) for seed in range(5)}) > 1   # jittered
