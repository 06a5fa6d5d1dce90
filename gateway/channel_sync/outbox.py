"""The push outbox: a stock change marks every active listing of the changed items with its new target.

Targets are written in the stock change's own transaction, so a change committed is a push owed, even
across a crash. The channel pusher reads due rows, sends what differs from the last pushed quantity and
removes a row only once its target was delivered. `listing_targets` is the one place a listing's target
is computed (clamp(available - buffer, 0, max_qty)); the pusher and the listing sync use it too.

Several locations (the channel's `locations` setting, table `channel_locations`): a listing stocked at a
marketplace location is given the available sum of that location's warehouses only, the channel's buffer
and cap applied to each location on its own; a listing at a location the channel does not map is given no
target (never pushed). A channel without `locations` gives every listing the sum over all sellable
warehouses, as before (a listing still at a location, from before its `locations` were removed, none).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from gateway.clock import now
from gateway.core.quantities import channel_quantity
from gateway.db import schema
from gateway.db.upsert import upsert

_CHUNK = 5000


@dataclass(frozen=True)
class ListingTarget:
    """The quantity an active, linked listing of an enabled channel should show now."""

    listing_pk: int
    channel_id: int
    target_qty: int
    last_pushed_qty: int | None
    location: str = ""


def location_warehouses(conn: Connection, channel_ids: Iterable[int]) -> dict[int, dict[str, set[int]]]:
    """channel id -> location -> the ids of the warehouses feeding it, for the channels with `locations`."""
    cl = schema.channel_locations.c
    out: dict[int, dict[str, set[int]]] = {}
    ids = sorted(set(channel_ids))
    for start in range(0, len(ids), _CHUNK):
        rows = conn.execute(select(cl.channel_id, cl.location, cl.warehouse_id)
                            .where(cl.channel_id.in_(ids[start:start + _CHUNK])))
        for channel_id, location, warehouse_id in rows:
            out.setdefault(channel_id, {}).setdefault(location, set()).add(warehouse_id)
    return out


def available_by_item_location(conn: Connection, item_ids: Iterable[int],
                               channel_ids: Iterable[int]) -> dict[tuple[int, int, str], int]:
    """(item id, channel id, location) -> the sum over the sellable warehouses feeding that location of
    the channel (`channel_locations`), for these items and channels."""
    s, w, cl = schema.stock_levels.c, schema.warehouses.c, schema.channel_locations.c
    ids, channels, result = sorted(set(item_ids)), sorted(set(channel_ids)), {}
    for start in range(0, len(ids), _CHUNK):
        query = (select(s.item_id, cl.channel_id, cl.location, func.sum(s.on_hand))
                 .join(schema.warehouses, w.id == s.warehouse_id)
                 .join(schema.channel_locations, cl.warehouse_id == s.warehouse_id)
                 .where(w.sellable.is_(True), s.item_id.in_(ids[start:start + _CHUNK]), cl.channel_id.in_(channels))
                 .group_by(s.item_id, cl.channel_id, cl.location))
        result.update({(item, channel, location): int(total) for item, channel, location, total in conn.execute(query)})
    return result


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


def listing_targets(conn: Connection, *, listing_pks: Iterable[int] | None = None,
                    item_ids: Iterable[int] | None = None, channel_id: int | None = None) -> list[ListingTarget]:
    """The current target of every active, linked listing of an enabled channel among these listings,
    of these items, or of this channel (give exactly one)."""
    l, c = schema.listings.c, schema.channels.c
    if channel_id is not None:
        filters = [l.channel_id == channel_id]
    else:
        column, values = (l.id, listing_pks) if listing_pks is not None else (l.item_id, item_ids)
        values = sorted(set(values or ()))
        filters = [column.in_(values[start:start + _CHUNK]) for start in range(0, len(values), _CHUNK)]
    targets = []
    for where in filters:
        rows = conn.execute(select(l.id, l.channel_id, l.item_id, l.last_pushed_qty, l.location, c.buffer, c.max_qty)
                            .join(schema.channels, c.id == l.channel_id)
                            .where(where, l.status == "active", l.item_id.is_not(None), c.enabled.is_(True))).all()
        located = location_warehouses(conn, {r.channel_id for r in rows})
        # a listing left at a location after its channel's `locations` were removed is not pushed either
        plain = [r for r in rows if r.channel_id not in located and not r.location]
        available = available_by_item(conn, {r.item_id for r in plain})
        targets += [ListingTarget(r.id, r.channel_id, channel_quantity(available[r.item_id], r.buffer, r.max_qty),
                                  r.last_pushed_qty, r.location) for r in plain]
        at_location = [r for r in rows if r.location in located.get(r.channel_id, {})]
        if at_location:
            totals = available_by_item_location(conn, {r.item_id for r in at_location}, located)
            targets += [ListingTarget(r.id, r.channel_id, channel_quantity(totals.get((r.item_id, r.channel_id,
                                                                                        r.location), 0),
                                                                             r.buffer, r.max_qty),
                                      r.last_pushed_qty, r.location) for r in at_location]
    return targets


def enqueue_targets(conn: Connection, targets: Iterable[ListingTarget], *, at: datetime | None = None) -> int:
    """Owe each listing a push of its target: a fresh outbox row, due now (replacing any waiting one)."""
    at = at or now()
    rows = [{"listing_pk": t.listing_pk, "channel_id": t.channel_id, "target_qty": t.target_qty, "created_at": at,
             "due_at": at, "attempts": 0, "last_error": None} for t in targets]
    upsert(conn, schema.push_outbox, rows, ["listing_pk"], ["target_qty", "created_at", "due_at", "attempts",
                                                            "last_error"])
    return len(rows)


def enqueue_for_items(conn: Connection, item_ids: Iterable[int], *, at: datetime | None = None) -> int:
    """Write the current target of every active, linked listing of these items; return how many."""
    return enqueue_targets(conn, listing_targets(conn, item_ids=item_ids), at=at)


def enqueue_listing_targets(conn: Connection, listing_pks: Iterable[int], *, at: datetime | None = None) -> int:
    """Owe these listings a push of their current target (newly linked listings are pushed at once)."""
    return enqueue_targets(conn, listing_targets(conn, listing_pks=listing_pks), at=at)
