"""Listings as the operator sees them: link state and reason, status, push state; filtered and paged.

A listing's state is one of LISTING_STATES: `linked` or `unlinked` while it is active on its channel,
else its status (`missing`, `sold`, `deleted`). Pages follow (channel, listing id) from a cursor (keyset),
so the millionth listing is as quick to reach as the first. A listing id stocked at several marketplace
locations (`location`, None for the channel's default one) is several rows, in location order, and a page
never splits them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, or_, select, tuple_

from gateway.clock import iso
from gateway.db import schema
from gateway.errors import UsageError
from gateway.orders.rows import channel_row

LISTING_STATES = ("linked", "unlinked", "missing", "sold", "deleted")
PAGE_LIMIT = 500


@dataclass(frozen=True)
class ListingsPage:
    """One page of listings; `next_after` is (channel, listing id) to continue from, None on the last."""

    listings: list[dict]
    next_after: tuple[str, str] | None


def _query(conn: Connection, channel: str | None, listing_id: str | None, state: str | None, search: str):
    l, c, i, o = schema.listings.c, schema.channels.c, schema.items.c, schema.push_outbox.c
    query = (select(c.name, l.listing_id, l.location, l.sku, l.size, i.sku.label("item_sku"), l.link_reason, l.status,
                    l.channel_qty, l.last_pushed_qty, l.last_pushed_at, l.last_push_error, o.target_qty, o.attempts)
             .select_from(schema.listings.join(schema.channels, c.id == l.channel_id)
                          .outerjoin(schema.items, i.id == l.item_id)
                          .outerjoin(schema.push_outbox, o.listing_pk == l.id))
             .order_by(c.name, l.listing_id, l.location))
    if channel is not None:
        query = query.where(l.channel_id == channel_row(conn, channel).id)
    if listing_id is not None:
        query = query.where(l.listing_id == listing_id)
    if state is not None:
        if state not in LISTING_STATES:
            raise UsageError(f"listing state {state!r} is not one of {', '.join(LISTING_STATES)}")
        if state in ("linked", "unlinked"):
            linked = l.item_id.is_not(None) if state == "linked" else l.item_id.is_(None)
            query = query.where(and_(l.status == "active", linked))
        else:
            query = query.where(l.status == state)
    if search.strip():
        text = search.strip()
        query = query.where(or_(l.sku.icontains(text, autoescape=True), l.listing_id.icontains(text, autoescape=True)))
    return query


def _row(r) -> dict:
    return {"channel": r.name, "listing_id": r.listing_id, "location": r.location or None, "sku": r.sku, "size": r.size, "item": r.item_sku,
            "link": "linked" if r.item_sku else "unlinked", "link_reason": r.link_reason, "status": r.status,
            "channel_quantity": r.channel_qty, "last_pushed_quantity": r.last_pushed_qty,
            "last_pushed_at": iso(r.last_pushed_at), "last_push_error": r.last_push_error,
            "pending_quantity": r.target_qty, "push_attempts": r.attempts or 0}


def listings_view(conn: Connection, channel: str | None = None, *, listing_id: str | None = None,
                  state: str | None = None, search: str = "") -> list[dict]:
    """Listings with their link state, reason, status and push state, by channel and listing id;
    `state` one of LISTING_STATES, `search` text in the SKU or listing id (any case)."""
    return [_row(r) for r in conn.execute(_query(conn, channel, listing_id, state, search))]


def listings_of_item(conn: Connection, item_id: int, sku: str) -> list[dict]:
    """The listings of one item on every channel: those linked to it and those carrying its SKU unlinked."""
    l = schema.listings.c
    query = _query(conn, None, None, None, "").where(or_(l.item_id == item_id, and_(l.item_id.is_(None), l.sku == sku)))
    return [_row(r) for r in conn.execute(query)]


def listings_page(conn: Connection, channel: str | None = None, *, state: str | None = None, search: str = "",
                  after: tuple[str, str] | None = None, limit: int = 100) -> ListingsPage:
    """`listings_view` a page at a time: at most `limit` listings after (channel, listing id) `after`."""
    if not 1 <= limit <= PAGE_LIMIT:
        raise UsageError(f"a page holds 1 to {PAGE_LIMIT} listings, not {limit}")
    query = _query(conn, channel, None, state, search)
    if after is not None:
        query = query.where(tuple_(schema.channels.c.name, schema.listings.c.listing_id) > tuple_(*after))
    rows = [_row(r) for r in conn.execute(query.limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    if more:    # the last listing's other locations join this page: the next one starts after its id
        last = rows[-1]
        l = schema.listings.c
        rows += [_row(r) for r in conn.execute(query.where(schema.channels.c.name == last["channel"],
                                                           l.listing_id == last["listing_id"],
                                                           l.location > (last["location"] or "")))]
    return ListingsPage(rows, (rows[-1]["channel"], rows[-1]["listing_id"]) if more else None)
