"""Cancel an order on the marketplace too, when the channel's API allows it, before StockGate records it.

`cancel_on_marketplace` sends the open lines being cancelled (all, or those named) to the adapter's
`cancel_order` with a reason the marketplace accepts: the operator's, or one matching their choice (keep:
the item is gone, e.g. Walmart `SELLER_CANCEL_OUT_OF_STOCK`; restore: the buyer asked, e.g.
`CUSTOMER_REQUESTED_SELLER_TO_CANCEL`). It runs before the StockGate cancellation is recorded, so a
refusal leaves the order untouched; the next order pull sees the marketplace's cancellation of lines
already cancelled here and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.channel_sync.adapters import channel_errors
from gateway.db.engine import Database
from gateway.errors import UsageError
from gateway.orders.rows import channel_row, find_order, order_lines

DEFAULT_REASONS = {"walmart": {"keep": "SELLER_CANCEL_OUT_OF_STOCK", "restore": "CUSTOMER_REQUESTED_SELLER_TO_CANCEL"}}


def can_cancel_on_marketplace(adapter) -> bool:
    """Whether the channel's API lets StockGate cancel an order there."""
    return callable(getattr(adapter, "cancel_order", None))


def cancel_on_marketplace(db: Database, adapter, channel: str, order_id: str, line_ids: Sequence[str] | None,
                          choice: str, reason: str | None = None) -> tuple[str, list[str]]:
    """Cancel the open lines on the marketplace; returns the reason sent and the lines cancelled there
    (none when nothing is open). Channel errors propagate (the command prints them, nothing is stored)."""
    with db.read() as conn:
        ch = channel_row(conn, channel)
        order = find_order(conn, ch, order_id.strip(), lock=False)
        lines = [l for l in order_lines(conn, order.id) if l.status == "open"
                 and (line_ids is None or l.line_id in line_ids)]
    sent = reason or DEFAULT_REASONS.get(ch.marketplace, {}).get(choice)
    if sent is None:
        raise UsageError(f"channel {channel}: give --marketplace-reason, the reason code the marketplace accepts")
    if lines:
        with channel_errors():
            adapter.cancel_order(order.order_id, [(l.line_id, l.quantity) for l in lines], sent)
    return sent, [l.line_id for l in lines]
