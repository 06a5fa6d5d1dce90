"""Listings: import them from a channel, link them to items, notice the ones that vanish (DESIGN "Listings").

- First import: a listing whose SKU StockGate holds no figure for (no item, or an item only an order
  created: no stock level, no ledger entry from a file, manual edit or listing import, no linked listing)
  brings its quantity into `MF` (ledger cause `listing_import`); a SKU StockGate already holds is never
  overwritten: the channel is pushed the current figure instead.
- Linking: to the item with the listing's SKU when the sizes agree (where both have one) and the item
  has no other listing on this channel; otherwise unlinked with SIZE_MISMATCH or CHANNEL_ALREADY_LINKED.
  A SKU that is no SKU (empty, over 100 characters, a control character) stays unlinked: INVALID_SKU.
- An operator's link or unlink (`gateway.channel_sync.linking`) stands while the listing's SKU on the
  channel stays the same: the sync decides again only for a listing whose SKU changed.
- A linked listing whose quantity on the channel is not its target is pushed its target (drift).
- A linked listing's title becomes its item's title when the item has none (`gateway.stock.titles`).
- Several locations: a channel with `locations` keeps one listing row per (listing id, location) the
  marketplace reports; linking is per location (one listing of an item per location), and a listing at a
  location the channel does not map stays unlinked, LOCATION_NOT_MAPPED (never pushed). A channel without
  `locations` ignores a reported location: every listing is at its one default location ("").
- Sync: incremental (from the stored cursor: new listings) or full (every listing; those gone become
  `missing`, with no stock change, until `mark_listing` settles them as `sold` or `deleted`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, select, text, update

from gateway.channel_sync.adapters import channel_errors
from gateway.channel_sync.listing_views import listings_view
from gateway.channel_sync.outbox import enqueue_listing_targets, enqueue_targets, listing_targets, location_warehouses
from gateway.clock import now
from gateway.core.ledger import ChangeKind, StockChange
from gateway.core.skus import SKU_MAX_LENGTH, clean_sku
from gateway.settings.checks import LOCATION_MAX_LENGTH
from gateway.db import schema
from gateway.db.engine import Database
from gateway.errors import UsageError
from gateway.orders.rows import channel_row
from gateway.stock import apply_stock_changes, ensure_items, warehouse_id
from gateway.stock.titles import store_titles

log = logging.getLogger(__name__)
SIZE_MISMATCH = "SIZE_MISMATCH"
CHANNEL_ALREADY_LINKED = "CHANNEL_ALREADY_LINKED"
INVALID_SKU = "INVALID_SKU"
UNLINKED_BY_OPERATOR = "UNLINKED_BY_OPERATOR"
LOCATION_NOT_MAPPED = "LOCATION_NOT_MAPPED"
HOLDING_CAUSES = ("file", "manual", "listing_import")   # ledger causes that give StockGate its own figure
LISTING_ID_MAX_LENGTH = 200
TITLE_MAX_LENGTH = 500
SETTLED_STATUSES = ("sold", "deleted")
MAX_PAGES = 10_000
LISTING_IMPORT_LOCK = 0x5354_4B47_4C53   # "STKGLS": PostgreSQL advisory lock key


@dataclass(frozen=True)
class SyncOutcome:
    """What one listing sync did."""

    channel: str
    full: bool
    seen: int = 0
    new: int = 0
    linked: int = 0
    unlinked: int = 0
    imported: int = 0          # new items whose quantity came into MF
    missing: int = 0           # listings marked missing by this (full) sync
    returned: int = 0          # listings seen again after being missing, sold or deleted
    corrected: int = 0         # linked listings showing another quantity than their target: pushed it
    skipped: int = 0           # listings that could not be stored (no usable listing id)
    problems: list[str] = field(default_factory=list)


def fetch_listings(adapter, cursor: str | None, full: bool) -> tuple[list, str | None]:
    """Every page of listings from `cursor` (None for a full sync); the remote listings and the last cursor.
    A listing shown on two pages (it moved while the pages were read) is kept once, as last shown (one
    per location it is stocked at)."""
    listings, cursor = {}, None if full else cursor
    for _ in range(MAX_PAGES):
        with channel_errors():
            page = adapter.list_listings(cursor, full)
        for listing in page.listings:
            listings.pop((listing.listing_id, listing.location), None)
            listings[(listing.listing_id, listing.location)] = listing
        cursor = page.cursor if page.cursor is not None else cursor
        if not page.more:
            break
    return list(listings.values()), cursor


def sync_listings(db: Database, channel: str, adapter, *, full: bool = False) -> SyncOutcome:
    """Fetch the channel's listings (network first, outside any transaction), then apply them at once."""
    with db.read() as conn:
        c = schema.channels.c
        cursor = conn.execute(select(c.listing_cursor).where(c.id == channel_row(conn, channel).id)).scalar_one()
    remote, cursor = fetch_listings(adapter, cursor, full)
    with db.write() as conn:
        return apply_listings(conn, channel, remote, full=full, cursor=cursor)


def sizes_disagree(a: str | None, b: str | None) -> bool:
    """Both sizes given and not the same (without regard to case and surrounding spaces)."""
    return bool(a and b) and a.strip().casefold() != b.strip().casefold()


def _storable(value: str | None, limit: int) -> str | None:
    """`value` as a database column can hold it: no NUL character, at most `limit` characters."""
    return None if value is None else str(value).replace("\x00", "")[:limit]


def _checked(channel: str, remote: list, located: bool) -> tuple[list[tuple[object, str | None]], list[str]]:
    """Each storable listing with its problem (INVALID_SKU or None), SKU cleaned, location "" unless the
    channel is `located`; and the listings that cannot be stored at all (no usable listing id or location),
    described for the operator."""
    checked, problems = [], []
    for r in remote:
        listing_id = r.listing_id if isinstance(r.listing_id, str) else ""
        if not listing_id.strip() or len(listing_id) > LISTING_ID_MAX_LENGTH or "\x00" in listing_id:
            problems.append(f"channel {channel}: listing id {listing_id[:40]!r} (SKU {str(r.sku)[:40]!r}) skipped: "
                            f"a listing id is 1-{LISTING_ID_MAX_LENGTH} characters")
            continue
        location = str(r.location) if located and r.location is not None else ""
        if len(location) > LOCATION_MAX_LENGTH or "\x00" in location:
            problems.append(f"channel {channel}: listing id {listing_id[:40]!r} skipped: its location "
                            f"{location[:40]!r} is over {LOCATION_MAX_LENGTH} characters or holds a NUL")
            continue
        r = replace(r, location=location)
        size, title = _storable(r.size, SKU_MAX_LENGTH), _storable(r.title, TITLE_MAX_LENGTH)
        try:
            r, reason = replace(r, sku=clean_sku(str(r.sku or "")), size=size, title=title), None
        except ValueError:
            r, reason = replace(r, sku=_storable(str(r.sku or ""), SKU_MAX_LENGTH), size=size, title=title), INVALID_SKU
        checked.append((r, reason))
    return checked, problems


def _items_holding_stock(conn: Connection, item_ids) -> set[int]:
    """The items StockGate already holds a figure for: a stock level, a ledger entry from a file, a manual
    edit or a listing import, or a listing linked to it (an item an order created holds none of these)."""
    s, lg, l = schema.stock_levels.c, schema.ledger.c, schema.listings.c
    ids, held = sorted(set(item_ids)), set()
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        for query in (select(s.item_id).where(s.item_id.in_(chunk)),
                      select(lg.item_id).where(lg.item_id.in_(chunk), lg.cause.in_(HOLDING_CAUSES)),
                      select(l.item_id).where(l.item_id.in_(chunk))):
            held.update(conn.execute(query.distinct()).scalars())
    return held


def apply_listings(conn: Connection, channel: str, remote: list, *, full: bool, cursor: str | None,
                   at: datetime | None = None) -> SyncOutcome:
    """Store, link and import `remote` listings of `channel` in the caller's write transaction."""
    at = at or now()
    if conn.dialect.name == "postgresql":   # one listing import at a time: the first integration's figure wins
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LISTING_IMPORT_LOCK})
    ch_id = channel_row(conn, channel).id
    mapped = location_warehouses(conn, [ch_id]).get(ch_id)    # None: the channel has no `locations`
    checked, problems = _checked(channel, remote, mapped is not None)
    # the last copy of an id at a location wins
    checked = list({(r.listing_id, r.location): (r, reason) for r, reason in checked}.values())
    for message in problems:
        log.warning(message)
    l, i = schema.listings.c, schema.items.c
    existing = {(r.listing_id, r.location): r for r in conn.execute(
        select(l.id, l.listing_id, l.location, l.sku, l.item_id, l.status, l.link_reason).where(l.channel_id == ch_id))}
    valid_skus = {r.sku for r, reason in checked if reason is None}
    items = {r.sku: r for r in conn.execute(select(i.id, i.sku, i.size).where(i.sku.in_(valid_skus)))} \
        if valid_skus else {}
    held = _items_holding_stock(conn, [item.id for item in items.values()])
    linked_items = {(r.item_id, r.location) for r in existing.values()          # one listing per item and location
                    if r.item_id is not None and r.status in ("active", "missing")}
    new_items: dict[str, object] = {}           # sku -> the remote listing that brings its quantity into MF
    claimed_at: dict[str, set[str]] = {}        # sku of a new item -> the locations a listing links it at
    decisions = []                              # (remote, existing row, sku to link or None, reason)
    counts = dict(new=0, linked=0, unlinked=0, returned=0)
    for r, invalid in checked:
        row = existing.get((r.listing_id, r.location))
        counts["new"] += row is None
        counts["returned"] += row is not None and row.status != "active"
        if mapped is not None and r.location not in mapped:
            decisions.append((r, row, None, LOCATION_NOT_MAPPED))
            continue
        if row is not None and row.sku == r.sku and row.item_id is not None:   # linked (by SKU or by hand)
            decisions.append((r, row, None, None))
            linked_items.add((row.item_id, r.location))
            continue
        if row is not None and row.sku == r.sku and row.link_reason == UNLINKED_BY_OPERATOR:
            decisions.append((r, row, None, UNLINKED_BY_OPERATOR))
            continue
        if invalid:
            decisions.append((r, row, None, invalid))
            continue
        item, claimed = items.get(r.sku), new_items.get(r.sku)
        known_size = claimed.size if claimed is not None else item.size if item is not None else None
        if sizes_disagree(r.size, known_size):
            decisions.append((r, row, None, SIZE_MISMATCH))
        elif claimed is None and (item is None or item.id not in held):
            new_items[r.sku] = r                # a SKU StockGate holds no figure for: this listing's counts
            claimed_at[r.sku] = {r.location}
            decisions.append((r, row, r.sku, None))
            if item is not None:
                linked_items.add((item.id, r.location))
        elif claimed is not None and r.location not in claimed_at[r.sku]:
            claimed_at[r.sku].add(r.location)   # the new item's listing at another location
            if item is not None:
                linked_items.add((item.id, r.location))
            decisions.append((r, row, r.sku, None))
        elif claimed is not None or (item.id, r.location) in linked_items:
            decisions.append((r, row, None, CHANNEL_ALREADY_LINKED))
        else:
            linked_items.add((item.id, r.location))
            decisions.append((r, row, r.sku, None))
    ids = ensure_items(conn, [s for s in new_items if s not in items],
                       {s: r.title for s, r in new_items.items() if r.title and s not in items})
    ids.update({sku: item.id for sku, item in items.items()})
    # a linked listing's title names its item when the item has none yet (a file's title is never replaced)
    store_titles(conn, {r.sku: r.title for r, row, link_sku, reason in decisions if reason is None and r.title
                        and (link_sku or (row is not None and row.item_id is not None))}, replace=False)
    sized = [{"k_id": ids[s], "size": r.size} for s, r in new_items.items() if r.size]
    if sized:
        conn.execute(update(schema.items).where(i.id == bindparam("k_id")).values(size=bindparam("size")), sized)

    inserts, updates, linked_now, reported = [], [], [], {}
    for r, row, link_sku, reason in decisions:
        values = {"sku": r.sku, "size": r.size, "channel_qty": r.quantity, "last_seen_at": at, "status": "active"}
        if row is None or link_sku is not None or reason is not None:
            values.update(item_id=ids[link_sku] if link_sku else None, link_reason=reason)
            counts["linked" if link_sku else "unlinked"] += 1
        if row is None:
            inserts.append({**values, "channel_id": ch_id, "listing_id": r.listing_id, "location": r.location,
                            "first_seen_at": at})
            continue
        updates.append({**values, "k_pk": row.id})
        if link_sku:
            linked_now.append(row.id)
        elif reason is None and r.quantity is not None:
            reported[row.id] = r.quantity       # still linked: does the channel show what it should?
    if inserts:
        conn.execute(schema.listings.insert(), inserts)
    for u in updates:
        pk = u.pop("k_pk")
        conn.execute(update(schema.listings).where(l.id == pk).values(**u))
    if inserts:
        inserted = {(row["listing_id"], row["location"]) for row in inserts}
        fresh = conn.execute(select(l.listing_id, l.location, l.id).where(
            l.channel_id == ch_id, l.listing_id.in_(sorted({lid for lid, _ in inserted})),
            l.item_id.is_not(None))).all()
        linked_now += [pk for lid, location, pk in fresh if (lid, location) in inserted]

    mf = warehouse_id(conn, "MF")
    imports = [StockChange((ids[s], mf), ChangeKind.SET, r.quantity, reference=f"{channel}/{r.listing_id}")
               for s, r in new_items.items() if r.quantity]
    apply_stock_changes(conn, imports, cause="listing_import", at=at)
    enqueue_listing_targets(conn, linked_now, at=at)
    corrected = _correct_drift(conn, reported, at)

    missing = 0
    if full:
        seen = {(r.listing_id, r.location) for r, _ in checked}
        gone = [row.id for key, row in existing.items() if row.status == "active" and key not in seen]
        if gone:
            conn.execute(update(schema.listings).where(l.id.in_(gone)).values(status="missing"))
            conn.execute(delete(schema.push_outbox).where(schema.push_outbox.c.listing_pk.in_(gone)))
        missing = len(gone)
    c = schema.channels.c
    conn.execute(update(schema.channels).where(c.id == ch_id).values(listing_cursor=cursor, imported=True))
    return SyncOutcome(channel, full, seen=len(checked), imported=len(imports), missing=missing, corrected=corrected,
                       skipped=len(problems), problems=problems, **counts)


def _correct_drift(conn: Connection, reported: dict[int, int], at: datetime) -> int:
    """Owe a push to every linked listing whose quantity on the channel is not its target (changed on the
    marketplace): its last pushed quantity is forgotten, so the push is not skipped. Returns how many."""
    drifted = [t for t in listing_targets(conn, listing_pks=reported) if t.target_qty != reported[t.listing_pk]]
    if drifted:
        l = schema.listings.c
        conn.execute(update(schema.listings).where(l.id.in_([t.listing_pk for t in drifted]))
                     .values(last_pushed_qty=None))
        enqueue_targets(conn, drifted, at=at)
    return len(drifted)


def mark_listing(conn: Connection, channel: str, listing_id: str, status: str, *, actor: str | None = None,
                 location: str | None = None) -> dict:
    """Settle a `missing` listing as `sold` or `deleted`; UsageError for a listing that is not missing.
    Written to the audit log (`listing.mark`) when an `actor` is named."""
    if status not in SETTLED_STATUSES:
        raise UsageError(f"status {status!r} is not one of {', '.join(SETTLED_STATUSES)}")
    from gateway.channel_sync.linking import listing_row   # linking imports this module

    row = listing_row(conn, channel, listing_id, location)
    l = schema.listings.c
    if row.status != "missing":
        raise UsageError(f"listing {listing_id!r} on {channel!r} is {row.status}: only a missing listing can be "
                         f"marked {status}")
    conn.execute(update(schema.listings).where(l.id == row.id).values(status=status))
    if actor is not None:
        from gateway.accounts.audit import record

        record(conn, actor=actor, action="listing.mark", target=f"{channel}/{listing_id}", detail={"status": status})
    return next(v for v in listings_view(conn, channel, listing_id=listing_id) if (v["location"] or "") == row.location)


def mark_listings(conn: Connection, listings: list[tuple], status: str, *,
                  actor: str | None = None) -> list[dict]:
    """`mark_listing` for each (channel, listing id[, location]), in the caller's transaction: one that
    cannot be marked raises, so the caller's rollback leaves every one of them as it was."""
    return [mark_listing(conn, ref[0], ref[1], status, actor=actor, location=ref[2] if len(ref) > 2 else None)
            for ref in listings]
