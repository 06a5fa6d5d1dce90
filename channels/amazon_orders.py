"""Read SP-API Orders v2026-01-01 answers (`searchOrders` with `includedData=CANCELLATION`) into StockGate
orders and per-item cancellations.

An order is pending while its `fulfillment.fulfillmentStatus` is PENDING or PENDING_AVAILABILITY (not paid),
accepted once UNSHIPPED or later, and cancelled when CANCELLED. An order item is cancelled when it carries a
`cancellation.cancellationExecution` (a buyer's `cancellationRequest` alone is only a request) or its order
is CANCELLED. The reason is the execution's `cancelReason`, else the buyer's request reason, in Amazon's own
words (free text: matched against the amazon reason table by the gateway); who cancelled comes from
`cancelledBy` (BUYER, MERCHANT, AMAZON) or the buyer's request; the time is the order's `lastUpdatedTime`
(the API carries no cancellation time).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from channels.errors import PermanentChannelError
from channels.model import CancellationData, OrderData, OrderLineData, read_time

PENDING = ("PENDING", "PENDING_AVAILABILITY")
CANCELLED = "CANCELLED"
CANCELLED_BY = {"BUYER": "buyer", "MERCHANT": "seller", "AMAZON": "marketplace"}


def iso(at: float) -> str:
    """POSIX seconds as the ISO-8601 UTC form SP-API takes (`2026-11-26T08:30:00Z`, whole seconds)."""
    return datetime.fromtimestamp(int(at), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(value: Any, what: str) -> datetime:
    try:
        return read_time(str(value), what)
    except ValueError as exc:
        raise PermanentChannelError(f"amazon sent {exc}") from None


def item_cancellation(item: dict, order_cancelled: bool) -> tuple[bool, str | None, str | None]:
    """(cancelled, reason, who) of one order item."""
    cancellation = item.get("cancellation") or {}
    request = cancellation.get("cancellationRequest") or {}
    execution = cancellation.get("cancellationExecution") or {}
    if not execution and not order_cancelled:
        return False, None, None
    reason = (execution.get("cancelReason") or request.get("cancelReason") or "").strip() or None
    who = CANCELLED_BY.get(str(execution.get("cancelledBy") or "").upper())
    if who is None:
        who = "buyer" if str(request.get("requester") or "").upper() == "BUYER" else "marketplace"
    return True, reason, who


def read_order(order: dict) -> tuple[OrderData, list[CancellationData]]:
    """One SP-API order: the order and one cancellation per cancelled item."""
    try:
        order_id = str(order["orderId"])
        items = list(order["orderItems"])
    except (KeyError, TypeError):
        raise PermanentChannelError(f"amazon sent an order without orderId or orderItems: {str(order)[:200]}") from None
    placed = _time(order.get("createdTime"), f"order {order_id} createdTime")
    updated = _time(order.get("lastUpdatedTime") or order.get("createdTime"), f"order {order_id} lastUpdatedTime")
    status = str(((order.get("fulfillment") or {}).get("fulfillmentStatus")) or "").upper()
    lines, cancellations = [], []
    for item in items:
        item_id = str(item.get("orderItemId") or "")
        sku = str(((item.get("product") or {}).get("sellerSku")) or "")
        try:
            quantity = int(item.get("quantityOrdered"))
        except (TypeError, ValueError):
            raise PermanentChannelError(f"amazon sent order {order_id} item {item_id} quantityOrdered "
                                        f"{item.get('quantityOrdered')!r}, not a whole number") from None
        lines.append(OrderLineData(item_id, sku, quantity))
        cancelled, reason, who = item_cancellation(item, status == CANCELLED)
        if cancelled:
            cancellations.append(CancellationData(order_id, max(updated, placed), "marketplace", reason, (item_id,),
                                                  cancelled_by=who))
    state = "pending" if status in PENDING or not status else "cancelled" if status == CANCELLED else "accepted"
    return OrderData(order_id, placed, state, tuple(lines)), cancellations
