"""Reading eBay orders, table-driven and without I/O: payment status -> acceptance, cancelled whole orders
with reason, time and who cancelled, and the Post-Order cancellation body (whole orders only)."""

from __future__ import annotations

import pytest

from channels.ebay_orders import cancel_body, cancelled_by, read_cancellation, read_order
from channels.errors import PermanentChannelError


def _order(**changes) -> dict:
    order = {"orderId": "12-1", "legacyOrderId": "L12-1", "creationDate": "2026-11-26T08:30:00.000Z",
             "lastModifiedDate": "2026-11-26T09:00:00.000Z", "orderPaymentStatus": "PAID",
             "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
             "lineItems": [{"lineItemId": "1001", "sku": "HAT", "quantity": 2},
                           {"lineItemId": "1002", "sku": "CAP", "quantity": 1}]}
    order.update(changes)
    return order


@pytest.mark.parametrize("payment, status", [("PAID", "accepted"), ("PARTIALLY_REFUNDED", "accepted"),
                                             ("FULLY_REFUNDED", "accepted"), ("PENDING", "pending"),
                                             ("FAILED", "pending")])
def test_an_order_is_accepted_once_paid(payment, status):
    order = read_order(_order(orderPaymentStatus=payment))
    assert order.status == status and [(l.line_id, l.sku, l.quantity) for l in order.lines] == [
        ("1001", "HAT", 2), ("1002", "CAP", 1)]


@pytest.mark.parametrize("initiator, who", [("Buyer", "buyer"), ("SELLER", "seller"), ("seller ", "seller"),
                                            ("eBay CS", "marketplace"), (None, "marketplace")])
def test_who_cancelled_comes_from_the_free_text_initiator(initiator, who):
    assert cancelled_by(initiator) == who


def test_a_cancelled_order_carries_the_completed_requests_reason_and_the_cancelled_date():
    status = {"cancelState": "CANCELED", "cancelledDate": "2026-11-26T10:00:00.123Z", "cancelRequests": [
        {"cancelRequestState": "REJECTED", "cancelReason": "I changed my mind", "cancelInitiator": "Buyer"},
        {"cancelRequestState": "COMPLETED", "cancelReason": "OUT_OF_STOCK_OR_CANNOT_FULFILL",
         "cancelInitiator": "Seller"}]}
    c = read_cancellation(_order(cancelStatus=status))
    assert (c.order_id, c.where, c.reason, c.line_ids, c.cancelled_by) == (
        "12-1", "marketplace", "OUT_OF_STOCK_OR_CANNOT_FULFILL", None, "seller")
    assert c.cancelled_at.isoformat() == "2026-11-26T10:00:00.123000+00:00"
    assert read_cancellation(_order(cancelStatus={"cancelState": "IN_PROGRESS", "cancelRequests": []})) is None


def test_a_bad_time_or_quantity_is_a_permanent_error_naming_the_order():
    with pytest.raises(PermanentChannelError, match="order 12-1 creationDate 'yesterday'"):
        read_order(_order(creationDate="yesterday"))
    with pytest.raises(PermanentChannelError, match="order 12-1 line 1001 quantity 'two'"):
        read_order(_order(lineItems=[{"lineItemId": "1001", "sku": "HAT", "quantity": "two"}]))


def test_the_post_order_body_cancels_the_whole_order_and_says_when_the_buyer_paid():
    body = cancel_body(_order(paymentSummary={"payments": [{"paymentDate": "2026-11-26T08:31:00.000Z"}]}),
                       "12-1", ["1001", "1002"], "BUYER_ASKED_CANCEL")
    assert body == {"legacyOrderId": "L12-1", "cancelReason": "BUYER_ASKED_CANCEL", "buyerPaid": True,
                    "buyerPaidDate": {"value": "2026-11-26T08:31:00.000Z"}}
    assert cancel_body(_order(orderPaymentStatus="PENDING"), "12-1", ["1002", "1001"], "ADDRESS_ISSUES")[
        "buyerPaid"] is False
    with pytest.raises(PermanentChannelError, match="whole orders only: order 12-1 has lines 1001, 1002"):
        cancel_body(_order(), "12-1", ["1001"], "BUYER_ASKED_CANCEL")
