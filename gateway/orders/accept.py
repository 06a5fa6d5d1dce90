"""Record a marketplace order: stored once per (channel, order id); it takes stock once, when accepted.

Allocation reads the stock levels of the order's items under lock in the caller's write transaction and
gives each line from the sellable warehouses by priority (`gateway.core.allocation`); the shortfall is
recorded as oversold. Every unit taken goes through `apply_stock_changes` (ledger cause `order`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Row, select, update

from channels.model import OrderData, OrderLineData
from gateway.clock import as_utc, now
from gateway.core.allocation import SourceStock, allocate_lines
from gateway.core.ledger import ChangeKind, StockChange
from gateway.db import schema
from gateway.orders.model import MovedUnits, OrderOutcome, check_id, checked_lines
from gateway.orders.rows import (
    NOTHING_TAKEN, ChannelRow, cancel_lines, channel_row, ensure_order, line_reference, order_lines, set_order,
)
from gateway.stock import apply_stock_changes, ensure_items, warehouses


def record_order(conn: Connection, channel: str, order: OrderData) -> OrderOutcome:
    """Store one delivery of a marketplace order in the caller's write transaction; idempotent.

    - new or pending, delivered `pending`: stored (new lines added), no stock taken;
    - pending (or new), delivered `accepted`: every open line takes its stock, once;
    - first seen `cancelled`, or pending delivered `cancelled`: stored cancelled, nothing taken;
    - accepted, delivered `cancelled`: nothing changes here; the outcome says `needs_cancellation`, and
      the caller records the cancellation (reason, time) with `record_cancellation`;
    - cancelled: final, a later delivery changes nothing.
    A line id not seen before is added (and, on an accepted order, takes its stock); lines already
    stored keep their first SKU and quantity. SKUs StockGate does not know become items with no stock.
    """
    ch = channel_row(conn, channel)
    order_id = check_id(order.order_id, f"channel {channel!r}: order id")
    lines = checked_lines(channel, order)
    row = ensure_order(conn, ch.id, order_id, as_utc(order.placed_at))
    stored = {line.line_id: line for line in order_lines(conn, row.id)}
    created = not stored
    outcome = dict(channel=ch.name, order_id=order_id, created=created,
                   previous_status=None if created else row.status)
    if row.status == "cancelled":
        return OrderOutcome(**outcome, status="cancelled")
    if row.status == "accepted" and order.status == "cancelled":
        still_open = any(line.status == "open" for line in stored.values())
        return OrderOutcome(**outcome, status="accepted", needs_cancellation=still_open)

    at = now()
    added = _add_lines(conn, row.id, [line for line in lines if line.line_id not in stored])
    every_open = [line for line in [*stored.values(), *added] if line.status == "open"]
    if order.status == "cancelled":
        cancel_lines(conn, [line.id for line in every_open], NOTHING_TAKEN, at=at, where="marketplace",
                     reason=None)
        set_order(conn, row.id, status="cancelled", cancelled_at=at)
        return OrderOutcome(**outcome, status="cancelled")
    if row.status == "pending" and order.status == "pending":
        return OrderOutcome(**outcome, status="pending")
    if row.status == "pending":
        set_order(conn, row.id, status="accepted", accepted_at=at)
        to_take = every_open
    else:
        to_take = added
    taken, oversold = _take_stock(conn, ch, order_id, row, to_take, at)
    return OrderOutcome(**outcome, status="accepted", taken=taken, oversold=oversold)


def _add_lines(conn: Connection, order_pk: int, lines: Sequence[OrderLineData]) -> list[Row]:
    """Insert new lines (creating unknown SKUs as items) and return their rows."""
    if not lines:
        return []
    items = ensure_items(conn, [line.sku for line in lines])
    conn.execute(schema.order_lines.insert(), [
        {"order_pk": order_pk, "line_id": line.line_id, "sku": line.sku, "item_id": items[line.sku],
         "quantity": line.quantity, "oversold": 0, "status": "open"} for line in lines])
    wanted = {line.line_id for line in lines}
    return [line for line in order_lines(conn, order_pk) if line.line_id in wanted]


def _locked_sources(conn: Connection, item_ids: Sequence[int]) -> dict[int, list[SourceStock]]:
    """What every warehouse holds of these items, read under lock (FOR UPDATE on PostgreSQL)."""
    s = schema.stock_levels.c
    query = (select(s.item_id, s.warehouse_id, s.on_hand).where(s.item_id.in_(sorted(set(item_ids))))
             .order_by(s.warehouse_id, s.item_id))   # warehouse by warehouse, as apply_stock_changes locks
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    by_id = {w.id: w for w in warehouses(conn).values()}
    sources: dict[int, list[SourceStock]] = defaultdict(list)
    for item_id, warehouse_pk, on_hand in conn.execute(query):
        w = by_id[warehouse_pk]
        sources[item_id].append(SourceStock(w.code, w.priority, w.sellable, on_hand))
    return sources


def _take_stock(conn: Connection, ch: ChannelRow, order_id: str, order: Row, lines: Sequence[Row],
                at: datetime) -> tuple[tuple[MovedUnits, ...], int]:
    """Allocate `lines`, take the units (ledger cause `order`), store allocations and oversold units."""
    if not lines:
        return (), 0
    sources = _locked_sources(conn, [line.item_id for line in lines])
    allocations = allocate_lines([(line.id, line.sku, line.quantity) for line in lines],
                                 {line.sku: sources.get(line.item_id, []) for line in lines})
    warehouse_ids = {code: w.id for code, w in warehouses(conn).items()}
    changes, allocation_rows, taken = [], [], []
    for line in lines:
        allocation = allocations[line.id]
        reference = line_reference(ch.name, order_id, line.line_id)
        for code, units in allocation.parts:
            changes.append(StockChange((line.item_id, warehouse_ids[code]), ChangeKind.ADD, -units,
                                       reference=reference))
            allocation_rows.append({"order_line_id": line.id, "warehouse_id": warehouse_ids[code], "units": units,
                                    "restored_units": 0, "placed_at": order.placed_at})
            taken.append(MovedUnits(line.line_id, line.sku, code, units))
        if allocation.oversold:
            conn.execute(update(schema.order_lines).where(schema.order_lines.c.id == line.id)
                         .values(oversold=allocation.oversold))
    if allocation_rows:
        conn.execute(schema.allocations.insert(), allocation_rows)
    apply_stock_changes(conn, changes, cause="order", at=at)
    oversold = sum(a.oversold for a in allocations.values())
    if oversold:
        set_order(conn, order.id, oversold=order.oversold + oversold)
    return tuple(taken), oversold
