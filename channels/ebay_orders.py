"""Read eBay Fulfillment API orders (`GET /order`, `GET /order/{orderId}`) into StockGate orders and cancellations.

eBay times are ISO-8601 with milliseconds and `Z`. An order takes stock once it is paid (`orderPaymentStatus`
PAID, or refunded after payment). eBay cancels whole orders: `cancelStatus.cancelState` CANCELED is a
cancellation of every line, at `cancelStatus.cancelledDate`. Its reason and who asked live in
`cancelStatus.cancelRequests`, which `getOrders` returns empty ("is returned but is always empty"), so the
adapter reads each cancelled order again with `getOrder`; `cancelInitiator` "Buyer"/"Seller" says who
cancelled, none at all means eBay did (e.g. an unpaid order). `cancel_body` is what the Post-Order API
is sent to cancel a whole order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from channels.errors import PermanentChannelError
from channels.model import CancellationData, OrderData, OrderLineData, read_time

PAID_STATUSES = ("PAID", "PARTIALLY_REFUNDED", "FULLY_REFUNDED")
CANCEL_STATES = ("CANCELED", "IN_PROGRESS", "NONE_REQUESTED")


def ebay_time(value: Any, what: str) -> datetime:
    """An eBay ISO-8601 time as aware UTC; PermanentChannelError naming the field otherwise."""
    try:
        return read_time(str(value), what)
    except (ValueError, TypeError) as exc:
        raise PermanentChannelError(f"ebay sent {exc}") from None


def iso_ms(ms: int) -> str:
    """Epoch milliseconds in the form eBay's filters take (`2026-11-26T08:30:00.000Z`)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def is_cancelled(order: dict) -> bool:
    """Whether eBay reports the whole order cancelled."""
    return ((order.get("cancelStatus") or {}).get("cancelState")) == "CANCELED"


def cancelled_by(initiator: Any) -> str:
    """buyer, seller or marketplace from a cancel request's free-text `cancelInitiator`."""
    text = str(initiator or "").strip().lower()
    if text.startswith("buyer"):
        return "buyer"
    if text.startswith("seller"):
        return "seller"
    return "marketplace"


def read_order(order: dict) -> OrderData:
    """One eBay order: accepted when paid, pending otherwise; a line per `lineItems` entry."""
    try:
        order_id = str(order["orderId"])
        items = order["lineItems"]
    except (KeyError, TypeError):
        raise PermanentChannelError(f"ebay sent an order without orderId or lineItems: {str(order)[:200]}") from None
    placed = ebay_time(order.get("creationDate"), f"order {order_id} creationDate")
    lines = []
    for item in items or []:
        line_id = str(item.get("lineItemId") or "")
        try:
            quantity = int(item.get("quantity"))
        except (TypeError, ValueError):
            raise PermanentChannelError(f"ebay sent order {order_id} line {line_id} quantity "
                                        f"{item.get('quantity')!r}, not a whole number") from None
        lines.append(OrderLineData(line_id, str(item.get("sku") or ""), quantity))
    paid = order.get("orderPaymentStatus") in PAID_STATUSES
    return OrderData(order_id, placed, "accepted" if paid else "pending", tuple(lines))


def read_cancellation(order: dict) -> CancellationData | None:
    """The cancellation of an order `getOrder` answered (None unless its cancelState is CANCELED): the
    completed cancel request's reason and initiator, the time eBay says it was cancelled."""
    if not is_cancelled(order):
        return None
    order_id = str(order.get("orderId"))
    status = order.get("cancelStatus") or {}
    requests = [r for r in status.get("cancelRequests") or [] if isinstance(r, dict)]
    done = [r for r in requests if r.get("cancelRequestState") == "COMPLETED"] or requests
    request = done[-1] if done else {}
    when = status.get("cancelledDate") or request.get("cancelCompletedDate") or order.get("lastModifiedDate")
    at = ebay_time(when, f"order {order_id} cancelledDate")
    reason = str(request["cancelReason"]).strip() if request.get("cancelReason") else None
    return CancellationData(order_id, at, "marketplace", reason or None, None,
                            cancelled_by=cancelled_by(request.get("cancelInitiator")))


def cancel_body(order: dict, order_id: str, line_ids: list[str], reason: str) -> dict:
    """The Post-Order `POST /cancellation` body for `order` (as getOrder answered it); eBay cancels whole
    orders only, so `line_ids` must name every line."""
    every = {str(i.get("lineItemId")) for i in order.get("lineItems") or []}
    if {str(line) for line in line_ids} != every:
        raise PermanentChannelError(f"ebay cancels whole orders only: order {order_id} has lines "
                                    f"{', '.join(sorted(every))}; cancel all of them")
    paid = order.get("orderPaymentStatus") in ("PAID", "PARTIALLY_REFUNDED")
    body: dict[str, Any] = {"legacyOrderId": str(order.get("legacyOrderId") or order_id), "cancelReason": reason,
                            "buyerPaid": paid}
    if paid:
        payments = (order.get("paymentSummary") or {}).get("payments") or []
        body["buyerPaidDate"] = {"value": next((p["paymentDate"] for p in payments if p.get("paymentDate")),
                                               order.get("creationDate"))}
    return body
