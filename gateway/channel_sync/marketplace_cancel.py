"""Cancel an order on the marketplace too, when the channel's API allows it, before StockGate records it.

`cancel_on_marketplace` sends the open lines being cancelled (all, or those named) to the adapter's
`cancel_order` with a reason the marketplace accepts: the operator's, or one matching their choice (keep:
the item is gone, e.g. Walmart `SELLER_CANCEL_OUT_OF_STOCK`, eBay `OUT_OF_STOCK_OR_CANNOT_FULFILL`; restore:
the buyer asked, e.g. `CUSTOMER_REQUESTED_SELLER_TO_CANCEL`, `BUYER_ASKED_CANCEL`). It runs before the StockGate cancellation is recorded, so a
refusal leaves the order untouched; the next order pull sees the marketplace's cancellation of lines
already cancelled here and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from channels.errors import ChannelError
from gateway.channel_sync.adapters import channel_errors
from gateway.channel_sync.jobs import ChannelJobs
from gateway.db.engine import Database
from gateway.errors import ConfigError, UsageError
from gateway.settings import Settings
from gateway.orders.rows import channel_row, find_order, order_lines

DEFAULT_REASONS = {"walmart": {"keep": "SELLER_CANCEL_OUT_OF_STOCK", "restore": "CUSTOMER_REQUESTED_SELLER_TO_CANCEL"},
                   "shopify": {"keep": "INVENTORY", "restore": "CUSTOMER"},
                   "ebay": {"keep": "OUT_OF_STOCK_OR_CANNOT_FULFILL", "restore": "BUYER_ASKED_CANCEL"}}


REFUSAL = "its API does not allow it from StockGate: cancel it there too"


def can_cancel_on_marketplace(adapter) -> bool:
    """Whether the channel's API lets StockGate cancel an order there."""
    return callable(getattr(adapter, "cancel_order", None))


def cancel_options(db: Database, settings: Settings, channel: str) -> dict:
    """What the order page's cancel form offers for `channel`: whether the order is cancelled on the
    marketplace too (`possible`, else `why` not), the reason codes it accepts (`reasons`, in the adapter's
    order) and the one each restore choice sends when none is chosen (`defaults`)."""
    cfg = settings.channel(channel)
    if cfg is None:
        return {"possible": False, "why": "the channel is no longer configured", "reasons": [], "defaults": {}}
    try:
        adapter = ChannelJobs(db, settings).adapter(channel)
    except (ChannelError, ConfigError, ValueError) as exc:
        return {"possible": False, "why": f"the channel cannot be reached as configured: {exc}", "reasons": [],
                "defaults": {}}
    if not can_cancel_on_marketplace(adapter):
        return {"possible": False, "why": getattr(adapter, "cancel_refusal", None) or REFUSAL, "reasons": [],
                "defaults": {}}
    return {"possible": True, "why": None, "reasons": list(getattr(adapter, "cancel_reasons", ())),
            "defaults": dict(DEFAULT_REASONS.get(cfg.marketplace, {}))}


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


def cancel_there_first(db: Database, settings: Settings, channel: str, order_id: str,
                       line_ids: Sequence[str] | None, choice: str, reason: str | None = None, *,
                       here_only: bool = False) -> dict:
    """What `orders cancel`, the order page and the API do before recording a cancellation in StockGate:
    cancel on the marketplace where its API allows it (not with `here_only`). Returns what was done
    (`cancelled`, `reason`, `lines`, `message` in words); a refusal by the marketplace raises UsageError
    naming it, and nothing is stored."""
    adapter = ChannelJobs(db, settings).adapter(channel) if settings.channel(channel) is not None else None
    if here_only or not can_cancel_on_marketplace(adapter):
        why = "--here-only" if here_only else getattr(adapter, "cancel_refusal", None) or REFUSAL
        return {"cancelled": False, "message": f"not cancelled on the marketplace ({why})"}
    try:
        sent, lines = cancel_on_marketplace(db, adapter, channel, order_id, line_ids, choice, reason)
    except ChannelError as exc:
        raise UsageError(f"the marketplace refused to cancel order {order_id} on {channel}: {exc} "
                         f"(nothing was changed in StockGate)") from exc
    return {"cancelled": bool(lines), "reason": sent, "lines": lines,
            "message": f"cancelled on the marketplace too: line(s) {', '.join(lines)} ({sent})" if lines
            else "nothing open to cancel on the marketplace"}
