"""Read Shopify Admin GraphQL orders into StockGate orders and cancellations, and the GraphQL documents the
`shopify` adapter sends (CHANNEL_APIS.md section 1).

Shopify cancels whole orders: `cancelledAt` is the time, `cancelReason` (OrderCancelReason: CUSTOMER,
DECLINED, FRAUD, INVENTORY, OTHER, STAFF) the reason matched against the shopify reason table by the
gateway. The API has no field saying who cancelled; `CUSTOMER` means the buyer asked, every other reason
is the merchant's (staff or an app), so `cancelled_by` is buyer for CUSTOMER and seller otherwise.
Order and line ids are the numeric ends of Shopify's gids (`gid://shopify/Order/5123` -> "5123"), the
figure the Shopify admin shows in its URLs.
"""

from __future__ import annotations

from channels.errors import PermanentChannelError
from channels.model import CancellationData, OrderData, OrderLineData, read_time

CANCEL_REASONS = ("CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF")
# OrderDisplayFinancialStatus values that take stock under each `take_stock_at` choice
TAKE_STOCK_AT = {
    "authorized": ("AUTHORIZED", "PAID", "PARTIALLY_PAID", "PARTIALLY_REFUNDED", "REFUNDED"),
    "paid": ("PAID", "PARTIALLY_PAID", "PARTIALLY_REFUNDED", "REFUNDED"),
    "placed": ("AUTHORIZED", "PAID", "PARTIALLY_PAID", "PARTIALLY_REFUNDED", "REFUNDED", "PENDING"),
}
LINE_PAGE = 20          # line items read with each order; an order with more is completed by ORDER_LINES

ORDERS = """
query StockGateOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name createdAt updatedAt displayFinancialStatus cancelledAt cancelReason
      lineItems(first: %d) { pageInfo { hasNextPage endCursor } nodes { id sku quantity } }
    }
  }
}""" % LINE_PAGE

ORDER_LINES = """
query StockGateOrderLines($id: ID!, $after: String) {
  order(id: $id) {
    id
    lineItems(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { id sku quantity } }
  }
}"""

CANCEL = """
mutation StockGateCancel($orderId: ID!, $reason: OrderCancelReason!, $refundMethod: OrderCancelRefundMethodInput!,
                         $restock: Boolean!, $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refundMethod: $refundMethod, restock: $restock,
              notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { code field message }
  }
}"""


def numeric_id(gid: str) -> str:
    """The numeric end of a gid (`gid://shopify/Order/5123?x=1` -> "5123"); other text as it is."""
    return str(gid).split("?", 1)[0].rsplit("/", 1)[-1]


def gid(kind: str, value: str) -> str:
    """A gid of `kind` for a numeric id (a gid already is one)."""
    value = str(value).strip()
    return value if value.startswith("gid://") else f"gid://shopify/{kind}/{value}"


def cancelled_by(reason: str | None) -> str:
    """buyer for CUSTOMER (the buyer asked), seller for every other reason (the merchant cancelled)."""
    return "buyer" if (reason or "").upper() == "CUSTOMER" else "seller"


def read_order(node: dict, take_stock_at: str = "authorized",
               extra_lines: list[dict] | None = None) -> tuple[OrderData, list[CancellationData]]:
    """One Shopify order (with the rest of its line items, when it had more than one page of them)."""
    try:
        order_id = numeric_id(node["id"])
        lines_in = list(node["lineItems"]["nodes"]) + list(extra_lines or [])
    except (KeyError, TypeError):
        raise PermanentChannelError(f"shopify sent an order without id or lineItems: {str(node)[:200]}") from None
    try:
        placed = read_time(str(node.get("createdAt")), f"shopify order {order_id} createdAt")
    except ValueError as exc:
        raise PermanentChannelError(str(exc)) from None
    lines = []
    for line in lines_in:
        try:
            quantity = int(line["quantity"])
        except (KeyError, TypeError, ValueError):
            raise PermanentChannelError(f"shopify order {order_id} line {line.get('id')!r} has no whole "
                                        f"quantity: {line.get('quantity')!r}") from None
        lines.append(OrderLineData(numeric_id(line.get("id") or ""), str(line.get("sku") or ""), quantity))
    financial = str(node.get("displayFinancialStatus") or "").upper()
    cancellations = []
    if node.get("cancelledAt"):
        try:
            at = read_time(str(node["cancelledAt"]), f"shopify order {order_id} cancelledAt")
        except ValueError as exc:
            raise PermanentChannelError(str(exc)) from None
        reason = node.get("cancelReason")
        cancellations.append(CancellationData(order_id, at, "marketplace", reason, None,
                                              cancelled_by=cancelled_by(reason)))
    # an order cancelled before StockGate saw it is reported as accepted: its stock is taken, and the
    # cancellation's reason decides (seed 003) whether it comes back, as for an order seen earlier
    reached = financial in TAKE_STOCK_AT[take_stock_at] or bool(cancellations)
    return OrderData(order_id, placed, "accepted" if reached else "pending", tuple(lines)), cancellations
