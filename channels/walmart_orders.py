"""Read Walmart Orders API answers (`GET /v3/orders`) into StockGate orders and per-line cancellations.

Walmart dates are epoch milliseconds; an order's status lives on each line (`orderLineStatuses`, possibly
split by quantity). A line counts as cancelled when its whole quantity is `Cancelled`; its
`cancellationReason` is the reason (matched against the walmart reason table by the gateway) and its
`statusDate` the time. Who cancelled comes from the reason (`SELLER_*` the seller, `CUSTOMER_*` the buyer)
or the line's `intentToCancel` flag; an unknown reason on a cancelled line is Walmart's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from channels.errors import PermanentChannelError
from channels.model import CancellationData, OrderData, OrderLineData

# CancelLineStatusType.cancellationReason in the Orders API (orders.json): what a seller may send
CANCEL_REASONS = ("CUSTOMER_REQUESTED_SELLER_TO_CANCEL", "SELLER_CANCEL_PRICING_ERROR", "SELLER_CANCEL_OUT_OF_STOCK",
                  "SELLER_CANCEL_FRAUD_STOP_SHIPMENT", "SELLER_CANCEL_ADDRESS_NOT_SERVICEABLE")
OPEN_STATUSES = ("Created", "Acknowledged", "Shipped", "Delivered")
TAKE_STOCK_AT = ("Created", "Acknowledged")


def epoch_ms(value: Any, what: str) -> datetime:
    """Walmart's epoch milliseconds (a number or a digit string) as an aware UTC time."""
    try:
        return datetime.fromtimestamp(int(str(value).strip()) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise PermanentChannelError(f"walmart sent {what} {value!r}, not epoch milliseconds") from None


def to_epoch_ms(at: datetime) -> int:
    """An aware time as epoch milliseconds."""
    return int(at.timestamp() * 1000)


def iso_ms(ms: int) -> str:
    """Epoch milliseconds as the ISO-8601 UTC form the Orders API takes (`2026-11-26T08:30:00.000Z`)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def cancelled_by(reason: str | None, intent_to_cancel: bool) -> str:
    """buyer, seller or marketplace, as far as the line says it."""
    code = (reason or "").upper()
    if code.startswith("CUSTOMER_") or intent_to_cancel:
        return "buyer"
    if code.startswith("SELLER_"):
        return "seller"
    return "marketplace"


def _amount(quantity: Any, what: str) -> int:
    try:
        amount = int(float(str((quantity or {}).get("amount"))))
    except (TypeError, ValueError, AttributeError):
        raise PermanentChannelError(f"walmart sent {what} {quantity!r} without a whole amount") from None
    return amount


def _statuses(line: dict) -> list[dict]:
    return list(((line.get("orderLineStatuses") or {}).get("orderLineStatus")) or [])


def read_order(order: dict, take_stock_at: str = "Created") -> tuple[OrderData, list[CancellationData]]:
    """One Walmart purchase order: the order (accepted once it reached `take_stock_at`) and one
    cancellation per wholly cancelled line."""
    try:
        po = str(order["purchaseOrderId"])
        lines_in = order["orderLines"]["orderLine"]
    except (KeyError, TypeError):
        raise PermanentChannelError(f"walmart sent an order without purchaseOrderId or orderLines: "
                                    f"{str(order)[:200]}") from None
    placed = epoch_ms(order.get("orderDate"), f"order {po} orderDate")
    lines, cancellations, reached = [], [], False
    for line in lines_in:
        number = str(line.get("lineNumber") or "")
        sku = str(((line.get("item") or {}).get("sku")) or "")
        quantity = _amount(line.get("orderLineQuantity"), f"order {po} line {number} orderLineQuantity")
        lines.append(OrderLineData(number, sku, quantity))
        statuses = _statuses(line)
        names = {s.get("status") for s in statuses}
        if "Acknowledged" in names or names & {"Shipped", "Delivered"} or \
                (take_stock_at == "Created" and names & set(OPEN_STATUSES)):
            reached = True
        cancelled = [s for s in statuses if s.get("status") == "Cancelled"]
        if cancelled and sum(_amount(s.get("statusQuantity"), f"order {po} line {number} statusQuantity")
                             for s in cancelled) >= quantity:
            reason = next((s.get("cancellationReason") for s in cancelled if s.get("cancellationReason")), None)
            at = epoch_ms(line.get("statusDate") or order.get("orderDate"), f"order {po} line {number} statusDate")
            cancellations.append(CancellationData(po, at, "marketplace", reason, (number,),
                                                  cancelled_by=cancelled_by(reason, bool(line.get("intentToCancel")))))
    # A released Walmart order is paid: one cancelled before StockGate saw it is still reported as
    # accepted when it reached `take_stock_at`, so its stock is taken and the cancellation decides.
    if cancellations and len(cancellations) == len(lines) and take_stock_at == "Created":
        reached = True
    return OrderData(po, placed, "accepted" if reached else "pending", tuple(lines)), cancellations


def newest_ms(orders: Iterable[dict]) -> int | None:
    """The latest orderDate or line statusDate among `orders` (the server's own clock)."""
    stamps = []
    for order in orders:
        stamps.append(order.get("orderDate"))
        stamps += [line.get("statusDate") for line in ((order.get("orderLines") or {}).get("orderLine") or [])]
    values = [int(str(s)) for s in stamps if str(s or "").isdigit()]
    return max(values) if values else None


def cancel_body(lines: Iterable[tuple[str, int]], reason: str) -> dict:
    """The body of `POST /v3/orders/{purchaseOrderId}/cancel` for whole lines."""
    if reason not in CANCEL_REASONS:
        raise PermanentChannelError(f"walmart does not accept cancellation reason {reason!r} "
                                    f"(one of {', '.join(CANCEL_REASONS)})")
    return {"orderCancellation": {"orderLines": {"orderLine": [
        {"lineNumber": str(number), "orderLineStatuses": {"orderLineStatus": [
            {"status": "Cancelled", "cancellationReason": reason,
             "statusQuantity": {"unitOfMeasurement": "EA", "amount": str(quantity)}}]}}
        for number, quantity in lines]}}}
