"""An operator links a listing to an item, or unlinks it (DESIGN "Listings"; `stockgate listings link|unlink`).

A link obeys the rules the listing sync applies: the sizes agree (where both have one) and the item has
no other listing on this channel; a refusal names its reason (SIZE_MISMATCH, CHANNEL_ALREADY_LINKED) in
words. A link owes the listing a push of the item's target at once. An unlinked listing keeps the reason
UNLINKED_BY_OPERATOR, and the listing sync leaves both kinds of decision alone while the listing's SKU on
the channel stays the same. A listing id stocked at several locations (a channel with `locations`) is
one listing per location: name the `location`, else the call is refused naming them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select, update

from gateway.channel_sync.listings import CHANNEL_ALREADY_LINKED, SIZE_MISMATCH, UNLINKED_BY_OPERATOR, \
    listings_view, sizes_disagree
from gateway.channel_sync.outbox import enqueue_listing_targets
from gateway.clock import now
from gateway.core.skus import clean_sku
from gateway.db import schema
from gateway.errors import NotFoundError, UsageError
from gateway.orders.rows import channel_row


LOCATIONS_SHOWN = 10


class LinkRefusedError(UsageError):
    """A link the listing rules refuse; `code` is the reason a sync would record (SIZE_MISMATCH, ...)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{message} ({code})")
        self.code = code


def listing_row(conn: Connection, channel: str, listing_id: str, location: str | None = None):
    """The listing row of `listing_id` on `channel` (at `location`, "" or None for the default one when
    the listing is at one location only); NotFoundError if none, UsageError naming the locations when the
    listing id is stocked at several and none was named."""
    ch_id = channel_row(conn, channel).id
    l = schema.listings.c
    query = (select(l.id, l.channel_id, l.listing_id, l.location, l.sku, l.size, l.item_id, l.status)
             .where(l.channel_id == ch_id, l.listing_id == listing_id).order_by(l.location))
    if location:
        query = query.where(l.location == location)
    rows = conn.execute(query.limit(LOCATIONS_SHOWN + 1)).all()
    if not rows:
        at = f" at location {location!r}" if location else ""
        raise NotFoundError(f"channel {channel!r} has no listing {listing_id!r}{at}")
    if len(rows) > 1:
        names = ", ".join(repr(r.location or "default") for r in rows[:LOCATIONS_SHOWN])
        raise UsageError(f"listing {listing_id!r} on {channel} is stocked at several locations ({names}): "
                         "name one (--location)")
    return rows[0]


def _listing(conn: Connection, channel: str, listing_id: str, location: str | None = None):
    return listing_row(conn, channel, listing_id, location)


def _audit(conn: Connection, actor: str | None, action: str, channel: str, listing_id: str, **detail) -> None:
    if actor is not None:
        from gateway.accounts.audit import record

        record(conn, actor=actor, action=action, target=f"{channel}/{listing_id}",
               detail={k: v for k, v in detail.items() if k != "location" or v})


def link_listing(conn: Connection, channel: str, listing_id: str, sku: str, *, at: datetime | None = None,
                 actor: str | None = None, location: str | None = None) -> dict:
    """Link the active listing `listing_id` of `channel` to the item `sku` and owe it a push of the item's
    target; the listing as `listings_view` shows it. NotFoundError for an unknown channel, listing or item,
    LinkRefusedError when the sizes disagree or the item has another listing on this channel. Written to
    the audit log (`listing.link`) when an `actor` is named."""
    row = _listing(conn, channel, listing_id, location)
    if row.status != "active":
        raise UsageError(f"listing {listing_id!r} on {channel} is {row.status}: only an active listing can be linked")
    try:
        sku = clean_sku(sku)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    i, l = schema.items.c, schema.listings.c
    item = conn.execute(select(i.id, i.sku, i.size).where(i.sku == sku)).first()
    if item is None:
        raise NotFoundError(f"StockGate has no item {sku!r}: give the SKU of an item in the inventory")
    if row.item_id == item.id:
        return _view(conn, channel, row)
    if sizes_disagree(row.size, item.size):
        raise LinkRefusedError(SIZE_MISMATCH, f"listing {listing_id!r} on {channel} is size {row.size!r} but item "
                                              f"{sku!r} is size {item.size!r}: the sizes must agree")
    other = conn.execute(select(l.listing_id).where(
        l.channel_id == row.channel_id, l.item_id == item.id, l.status.in_(("active", "missing")),
        l.location == row.location, l.id != row.id).order_by(l.listing_id)).scalars().first()
    if other is not None:
        at = f" at location {row.location!r}" if row.location else ""
        per = "per channel and location" if row.location else "per channel"
        raise LinkRefusedError(CHANNEL_ALREADY_LINKED, f"item {sku!r} is already linked to listing {other!r} on "
                                                       f"{channel}{at}: an item has one listing {per} (unlink "
                                                       f"{other!r} first)")
    # the last pushed quantity was another item's (or none): forget it, so the push is never skipped
    conn.execute(update(schema.listings).where(l.id == row.id).values(item_id=item.id, link_reason=None,
                                                                        last_pushed_qty=None))
    enqueue_listing_targets(conn, [row.id], at=at or now())
    linked = _view(conn, channel, row)
    _audit(conn, actor, "listing.link", channel, listing_id, item=item.sku, pending_quantity=linked["pending_quantity"],
           location=row.location)
    return linked


def unlink_listing(conn: Connection, channel: str, listing_id: str, *, actor: str | None = None,
                   location: str | None = None) -> dict:
    """Unlink a linked listing of `channel` (reason UNLINKED_BY_OPERATOR): it is pushed nothing more, and
    its push still owed is dropped. UsageError for a listing that is not linked. Written to the audit log
    (`listing.unlink`) when an `actor` is named."""
    row = _listing(conn, channel, listing_id, location)
    if row.item_id is None:
        raise UsageError(f"listing {listing_id!r} on {channel} is not linked: nothing to unlink")
    l = schema.listings.c
    conn.execute(update(schema.listings).where(l.id == row.id).values(item_id=None, link_reason=UNLINKED_BY_OPERATOR))
    conn.execute(delete(schema.push_outbox).where(schema.push_outbox.c.listing_pk == row.id))
    was = conn.execute(select(schema.items.c.sku).where(schema.items.c.id == row.item_id)).scalar_one()
    _audit(conn, actor, "listing.unlink", channel, listing_id, item=was, location=row.location)
    return _view(conn, channel, row)


def _view(conn: Connection, channel: str, row) -> dict:
    """The listing row as `listings_view` shows it."""
    return next(v for v in listings_view(conn, channel, listing_id=row.listing_id)
                if (v["location"] or "") == row.location)
