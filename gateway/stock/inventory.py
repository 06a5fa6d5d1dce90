"""The inventory as an operator reads it: a searched page of items, one item with its levels, listings
and ledger, and that ledger as CSV.

Pages follow the SKU index from a cursor (keyset: `WHERE sku > :after ORDER BY sku LIMIT n`), never an
offset, so the last page of a million SKUs is as quick as the first; the ledger pages follow its id.
The items have the shape `stockgate stock --json` prints, with their title; the ledger entries the shape
of `stockgate ledger --json`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, func, or_, select

from gateway.channel_sync.listing_views import listings_of_item
from gateway.clock import iso
from gateway.core.skus import clean_sku
from gateway.db import schema
from gateway.errors import NotFoundError, UsageError
from gateway.spreadsheet_csv import SpreadsheetCsvWriter
from gateway.stock.levels import warehouses

PAGE_LIMIT = 500
LEDGER_CSV_COLUMNS = ("id", "at", "sku", "warehouse", "delta", "on_hand_after", "cause", "file_id", "row",
                      "reference", "note")


@dataclass(frozen=True)
class StockPage:
    """Items in SKU order; `next_after` / `prev_before`: the SKU to continue from, None at either end."""

    items: list[dict]
    warehouses: list[str]
    next_after: str | None
    prev_before: str | None


def _limit(limit: int) -> int:
    if not 1 <= limit <= PAGE_LIMIT:
        raise UsageError(f"a page holds 1 to {PAGE_LIMIT} rows, not {limit}")
    return limit


def stock_page(conn: Connection, *, search: str = "", after: str | None = None, before: str | None = None,
               limit: int = 50) -> StockPage:
    """At most `limit` items whose SKU or title holds `search` (any case), after SKU `after` or before SKU
    `before` (one of them, or neither for the first page), each with its levels and available quantity."""
    if after is not None and before is not None:
        raise UsageError("give either after or before, not both")
    i = schema.items.c
    query = select(i.id, i.sku, i.title)
    if search.strip():
        text = search.strip()
        query = query.where(or_(i.sku.icontains(text, autoescape=True), i.title.icontains(text, autoescape=True)))
    backwards = before is not None
    if after is not None:
        query = query.where(i.sku > after)
    if backwards:
        query = query.where(i.sku < before)
    rows = conn.execute(query.order_by(i.sku.desc() if backwards else i.sku).limit(_limit(limit) + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    items = _with_levels(conn, rows)
    first, last = (items[0]["sku"], items[-1]["sku"]) if items else (None, None)
    return StockPage(items, list(warehouses(conn)),
                     next_after=last if (more and not backwards) or (backwards and items) else None,
                     prev_before=first if (more and backwards) or (after is not None and items) else None)


def _with_levels(conn: Connection, rows) -> list[dict]:
    """Each (id, sku, title) row as an item: its on hand per warehouse (by priority) and available."""
    order = list(warehouses(conn).values())
    by_id = {w.id: w for w in order}
    s = schema.stock_levels.c
    levels: dict[int, dict[int, int]] = {}
    if rows:
        for item, wh, on_hand in conn.execute(select(s.item_id, s.warehouse_id, s.on_hand)
                                              .where(s.item_id.in_([r.id for r in rows]))):
            levels.setdefault(item, {})[wh] = on_hand
    items = []
    for r in rows:
        mine = levels.get(r.id, {})
        items.append({"sku": r.sku, "title": r.title,
                      "warehouses": {w.code: mine[w.id] for w in order if w.id in mine},
                      "available": sum(q for wh, q in mine.items() if by_id[wh].sellable)})
    return items


def _item(conn: Connection, sku: str):
    i = schema.items.c
    try:
        wanted = clean_sku(sku)
    except ValueError as exc:
        raise NotFoundError(f"StockGate has no item {sku!r}") from exc
    row = conn.execute(select(i.id, i.sku, i.title, i.size, i.created_at).where(i.sku == wanted)).first()
    if row is None:
        raise NotFoundError(f"StockGate has no item {sku!r}")
    return row


def item_detail(conn: Connection, sku: str) -> dict:
    """One item: title, size, every warehouse's level (None where it has none), available, its listings on
    every channel (linked to it, or carrying its SKU unlinked) and how many ledger entries it has."""
    row = _item(conn, sku)
    item = _with_levels(conn, [row])[0]
    levels = [{"warehouse": w.code, "name": w.name, "sellable": w.sellable,
               "on_hand": item["warehouses"].get(w.code)} for w in warehouses(conn).values()]
    l = schema.ledger.c
    entries = conn.execute(select(func.count()).select_from(schema.ledger).where(l.item_id == row.id)).scalar_one()
    return {"sku": row.sku, "title": row.title, "size": row.size, "created_at": iso(row.created_at),
            "warehouses": item["warehouses"], "available": item["available"], "levels": levels,
            "listings": listings_of_item(conn, row.id, row.sku), "ledger_entries": entries}


def _ledger_query(item_id: int):
    l, i, w = schema.ledger.c, schema.items.c, schema.warehouses.c
    return (select(l.id, l.at, i.sku, w.code, l.delta, l.on_hand_after, l.cause, l.file_id, l.file_row,
                   l.reference, l.note)
            .join_from(schema.ledger, schema.items, i.id == l.item_id)
            .join(schema.warehouses, w.id == l.warehouse_id).where(l.item_id == item_id))


def _entry(r) -> dict:
    return {"id": r.id, "at": iso(r.at), "sku": r.sku, "warehouse": r.code, "delta": r.delta,
            "on_hand_after": r.on_hand_after, "cause": r.cause, "file_id": r.file_id, "row": r.file_row,
            "reference": r.reference, "note": r.note}


def ledger_page(conn: Connection, sku: str, *, before: int | None = None,
                limit: int = 50) -> tuple[list[dict], int | None]:
    """The item's ledger newest first: at most `limit` entries older than entry id `before`, and the id to
    continue from (None on the last page)."""
    item = _item(conn, sku)
    query = _ledger_query(item.id)
    if before is not None:
        query = query.where(schema.ledger.c.id < before)
    rows = conn.execute(query.order_by(schema.ledger.c.id.desc()).limit(_limit(limit) + 1)).all()
    entries = [_entry(r) for r in rows[:limit]]
    return entries, entries[-1]["id"] if len(rows) > limit else None


def iter_ledger_csv(conn: Connection, sku: str, *, batch: int = 5000) -> Iterator[str]:
    """The item's whole ledger, oldest first, as CSV text a few rows at a time (the header first): read
    along the ledger's id `batch` rows per query, so an item's long history is never all in memory.
    Consume it inside `conn`'s transaction. NotFoundError before the first line for an unknown item."""
    item = _item(conn, sku)
    buffer = io.StringIO()
    writer = SpreadsheetCsvWriter(buffer)   # a note such as =HYPERLINK(...) is text, never a formula

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    def lines() -> Iterator[str]:
        writer.writerow(LEDGER_CSV_COLUMNS)
        yield flush()
        last = 0
        while rows := conn.execute(_ledger_query(item.id).where(schema.ledger.c.id > last)
                                   .order_by(schema.ledger.c.id).limit(batch)).all():
            for r in rows:
                e = _entry(r)
                writer.writerow(["" if e[k] is None else e[k] for k in LEDGER_CSV_COLUMNS])
            last = rows[-1].id
            yield flush()

    return lines()
