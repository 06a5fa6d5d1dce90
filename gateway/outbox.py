"""The push outbox: a stock change marks every active listing of the changed items with its new target.

Targets are written in the stock change's own transaction, so a change committed is a push owed, even
across a crash. The channel pusher reads due rows, sends what differs from the last pushed quantity and
removes a row only once its target was delivered.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, func, select

from gateway.clock import now
from gateway.core.quantities import channel_quantity
from gateway.db import schema
from gateway.db.upsert import upsert

_CHUNK = 5000


def available_by_item(conn: Connection, item_ids: Iterable[int]) -> dict[int, int]:
    """Available quantity (sum over sellable warehouses) per item id."""
    s, w = schema.stock_levels.c, schema.warehouses.c
    ids = sorted(set(item_ids))
    result = {i: 0 for i in ids}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        query = (select(s.item_id, func.sum(s.on_hand)).join(schema.warehouses, w.id == s.warehouse_id)
                 .where(w.sellable.is_(True), s.item_id.in_(chunk)).group_by(s.item_id))
        result.update(conn.execute(query).all())
    return result


def enqueue_for_items(conn: Connection, item_ids: Iterable[int], *, at: datetime | None = None) -> int:
    """Write the current target of every active, linked listing of these items; return how many."""
    ids = sorted(set(item_ids))
    if not ids:
        return 0
    at = at or now()
    l, c = schema.listings.c, schema.channels.c
    targets = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        rows = conn.execute(select(l.id, l.channel_id, l.item_id, c.buffer, c.max_qty)
                            .join(schema.channels, c.id == l.channel_id)
                            .where(l.item_id.in_(chunk), l.status == "active", c.enabled.is_(True))).all()
        if not rows:
            continue
        available = available_by_item(conn, {r.item_id for r in rows})
        targets += [{"listing_pk": r.id, "channel_id": r.channel_id,
                     "target_qty": channel_quantity(available[r.item_id], r.buffer, r.max_qty),
                     "created_at": at, "due_at": at, "attempts": 0, "last_error": None} for r in rows]
    upsert(conn, schema.push_outbox, targets, ["listing_pk"],
           ["target_qty", "created_at", "due_at", "attempts", "last_error"])
    return len(targets)
