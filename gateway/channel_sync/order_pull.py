"""Bring a channel's orders and cancellations in: one transaction per page, with the cursor that follows it.

Each page's orders (`record_order`) and cancellations (`record_cancellation`) are recorded together with
the new order cursor, so a crash either keeps the whole page or none of it; both services are
idempotent, so a page fetched twice changes nothing. An order the services refuse (bad data) is skipped
in its own savepoint and named in the outcome, so one bad order never blocks the channel. A cancellation
dated before its order's placement is refused by `record_cancellation` (the order is kept, the refusal
stored for `orders explain`), logged and named in the outcome likewise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select, update

from gateway.channel_sync.adapters import channel_errors
from gateway.db import schema
from gateway.db.engine import Database
from gateway.errors import StockGateError
from gateway.orders import record_cancellation, record_order
from gateway.orders.rows import channel_row

log = logging.getLogger(__name__)
MAX_PAGES = 1000


@dataclass
class PullOutcome:
    """What one order pull did."""

    channel: str
    orders: int = 0                 # orders delivered by the channel
    changed: int = 0                # of which changed something (new, accepted, new lines)
    cancellations: int = 0
    restored: int = 0               # cancellations that gave stock back
    problems: list[str] = field(default_factory=list)


def pull_orders(db: Database, channel: str, adapter) -> PullOutcome:
    """Fetch pages from the stored order cursor until the channel has no more; record each page."""
    outcome = PullOutcome(channel)
    c = schema.channels.c
    for _ in range(MAX_PAGES):
        with db.read() as conn:
            ch_id = channel_row(conn, channel).id
            cursor = conn.execute(select(c.order_cursor).where(c.id == ch_id)).scalar_one()
        with channel_errors():
            page = adapter.fetch_orders(cursor)
        with db.write() as conn:
            current = conn.execute(select(c.order_cursor).where(c.id == ch_id)).scalar_one()
            if current != cursor:      # another puller recorded this page meanwhile
                break
            _record_page(conn, channel, page, outcome)
            conn.execute(update(schema.channels).where(c.id == ch_id).values(order_cursor=page.cursor))
        with channel_errors():
            adapter.orders_committed(page)
        if not page.more:
            break
    return outcome


def _record_page(conn, channel: str, page, outcome: PullOutcome) -> None:
    for order in page.orders:
        outcome.orders += 1
        result = _guarded(conn, outcome, f"order {order.order_id}", record_order, channel, order)
        outcome.changed += bool(result is not None and result.changed)
    for cancellation in page.cancellations:
        result = _guarded(conn, outcome, f"cancellation of order {cancellation.order_id}", record_cancellation,
                          channel, cancellation)
        if result is not None and result.refused:
            message = f"channel {outcome.channel}: {result.refused}"
            log.warning(message)
            outcome.problems.append(message)
        elif result is not None and result.changed:
            outcome.cancellations += 1
            outcome.restored += bool(result.restore)


def _guarded(conn, outcome: PullOutcome, what: str, service, *args):
    """Run one service call in a savepoint; a refusal rolls back only that call and is reported."""
    savepoint = conn.begin_nested()
    try:
        result = service(conn, *args)
    except (StockGateError, ValueError) as exc:
        savepoint.rollback()
        message = f"channel {outcome.channel}: {what} skipped: {exc}"
        log.warning(message)
        outcome.problems.append(message)
        return None
    savepoint.commit()
    return result
