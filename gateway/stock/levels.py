"""Stock levels and the ledger in the database: the one place a stock level changes.

`apply_stock_changes` runs inside the caller's transaction and writes every level together with its
ledger entry. On PostgreSQL the levels are locked (SELECT ... FOR UPDATE) before they are read; on SQLite
every write transaction holds the database lock from its start (BEGIN IMMEDIATE). Either way two writers
of one level queue, and neither loses the other's update.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, or_, select

from gateway.clock import iso
from gateway.core.ledger import PlannedEntry, StockChange, check_cause, clean_note, plan_changes
from gateway.core.skus import clean_sku
from gateway.db import schema
from gateway.db.upsert import insert_ignore
from gateway.errors import NotFoundError, UsageError
from parsers.issues import QUANTITY_LIMIT

# Above this many levels of one warehouse in a batch, read the whole warehouse instead of key lists.
_WHOLE_WAREHOUSE_THRESHOLD = 2000
_CHUNK = 5000
# A staged file's differing rows are written this many at a time (`apply_file_diff`); tests make it small.
# Fewer, longer sweeps of the ledger's indexes: chunks of 50,000 cost about 1 CPU second more at 1M rows.
FILE_CHUNK_ROWS = 200_000


@dataclass(frozen=True)
class WarehouseRow:
    id: int
    code: str
    name: str
    kind: str
    priority: int
    sellable: bool


def warehouses(conn: Connection) -> dict[str, WarehouseRow]:
    """Every warehouse by code."""
    w = schema.warehouses.c
    rows = conn.execute(select(w.id, w.code, w.name, w.kind, w.priority, w.sellable).order_by(w.priority, w.code))
    return {r.code: WarehouseRow(*r) for r in rows}


def find_warehouse(conn: Connection, code: str) -> WarehouseRow:
    """Warehouse `code`, found without regard to case (`west` finds `WEST`; codes are unique that way);
    NotFoundError naming the known codes when there is none."""
    found = warehouses(conn)
    row = found.get(code) or next((w for c, w in found.items() if c.casefold() == code.strip().casefold()), None)
    if row is None:
        raise NotFoundError(f"unknown warehouse {code!r} (known: {', '.join(found) or 'none'})")
    return row


def warehouse_id(conn: Connection, code: str) -> int:
    """The id of warehouse `code` (any case); NotFoundError naming the known codes when there is none."""
    return find_warehouse(conn, code).id


# Bulk statements run on the driver cursor: a million rows as plain tuples, not SQLAlchemy Row objects.
# Constant SQL per parameter style (sqlite3 `?`, psycopg `%s`); values are always bound, never formatted in.
_SQL = {
    "qmark": {
        "catalog": "SELECT sku, id FROM items",
        "levels": "SELECT item_id, on_hand FROM stock_levels WHERE warehouse_id = ?",
        "update": "UPDATE stock_levels SET on_hand = ?, updated_at = ? WHERE item_id = ? AND warehouse_id = ?",
        "ledger": "INSERT INTO ledger (at, item_id, warehouse_id, delta, on_hand_after, cause, file_id, file_row, "
                  "reference, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    },
    "format": {
        "catalog": "SELECT sku, id FROM items",
        "levels": "SELECT item_id, on_hand FROM stock_levels WHERE warehouse_id = %s",
        "levels_locked": "SELECT item_id, on_hand FROM stock_levels WHERE warehouse_id = %s "
                         "ORDER BY item_id FOR UPDATE",
        "update": "UPDATE stock_levels SET on_hand = %s, updated_at = %s WHERE item_id = %s AND warehouse_id = %s",
        "ledger": "INSERT INTO ledger (at, item_id, warehouse_id, delta, on_hand_after, cause, file_id, file_row, "
                  "reference, note) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
    },
}


def _statements(conn: Connection) -> dict[str, str]:
    return _SQL["qmark" if conn.dialect.name == "sqlite" else "format"]


def _fetch_pairs(conn: Connection, sql: str, params: tuple = ()) -> dict:
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())
    finally:
        cursor.close()


def _execute_many(conn: Connection, sql: str, rows: list[tuple]) -> None:
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


def _stamp(conn: Connection, at: datetime):
    """`at` as the driver stores it: SQLAlchemy's SQLite DATETIME text (UTC), a datetime elsewhere."""
    if conn.dialect.name == "sqlite":
        return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return at


def catalog_ids(conn: Connection) -> dict[str, int]:
    """Every item id by SKU (one scan; for files that name a large part of the catalog)."""
    return _fetch_pairs(conn, _statements(conn)["catalog"])


def item_ids(conn: Connection, skus: Iterable[str]) -> dict[str, int]:
    """The ids of the items with these SKUs (unknown SKUs are simply absent)."""
    wanted = list(dict.fromkeys(skus))
    found: dict[str, int] = {}
    i = schema.items.c
    if len(wanted) > _WHOLE_WAREHOUSE_THRESHOLD:
        catalog = catalog_ids(conn)
        return {sku: catalog[sku] for sku in wanted if sku in catalog}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        found.update(conn.execute(select(i.sku, i.id).where(i.sku.in_(chunk))).all())
    return found


def skus_of(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    """The SKUs of these item ids (one scan of the catalog for many)."""
    wanted = list(dict.fromkeys(ids))
    if len(wanted) > _WHOLE_WAREHOUSE_THRESHOLD:
        return {item: sku for sku, item in catalog_ids(conn).items()}
    i = schema.items.c
    found: dict[int, str] = {}
    for start in range(0, len(wanted), _CHUNK):
        found.update(conn.execute(select(i.id, i.sku).where(i.id.in_(wanted[start:start + _CHUNK]))).all())
    return found


def ensure_items(conn: Connection, skus: Iterable[str], titles: dict[str, str] | None = None, *,
                 created_by_file: str | None = None) -> dict[str, int]:
    """Ids of the items with these SKUs, creating the missing ones (`created_by_file`: the id of the file
    that creates them, remembered with each new item)."""
    wanted = list(dict.fromkeys(skus))
    found = item_ids(conn, wanted)
    missing = [s for s in wanted if s not in found]
    if missing:
        now = datetime.now(UTC)
        titles = titles or {}
        insert_ignore(conn, schema.items, [{"sku": s, "title": titles.get(s), "created_at": now,
                                            "created_by_file": created_by_file} for s in missing], ["sku"])
        found.update(item_ids(conn, missing))
    return found


def _read_levels(conn: Connection, keys: set[tuple[int, int]], lock: bool) -> dict[tuple[int, int], int]:
    s = schema.stock_levels.c
    by_warehouse: dict[int, list[int]] = defaultdict(list)
    for item, wh in keys:
        by_warehouse[wh].append(item)
    levels: dict[tuple[int, int], int] = {}
    for wh, items in by_warehouse.items():
        query = select(s.item_id, s.on_hand).where(s.warehouse_id == wh)
        chunks = [None] if len(items) > _WHOLE_WAREHOUSE_THRESHOLD else [
            sorted(items)[i:i + _CHUNK] for i in range(0, len(items), _CHUNK)]
        for chunk in chunks:
            q = query if chunk is None else query.where(s.item_id.in_(chunk))
            if lock:
                q = q.order_by(s.item_id).with_for_update()
            for item, on_hand in conn.execute(q):
                if (item, wh) in keys:
                    levels[(item, wh)] = on_hand
    return levels


def read_warehouse_levels(conn: Connection, warehouse: int, item_ids: Sequence[int] | None = None, *,
                          lock: bool = False) -> dict[int, int]:
    """on_hand per item id of one warehouse: every level, or at least those of `item_ids`; FOR UPDATE
    with `lock`. Levels that do not exist are absent (they are 0). A long `item_ids` reads the whole
    warehouse: one scan is cheaper than many IN lists.
    """
    if item_ids is None or len(item_ids) > _WHOLE_WAREHOUSE_THRESHOLD:
        return _fetch_pairs(conn, _statements(conn)["levels_locked" if lock else "levels"], (warehouse,))
    s = schema.stock_levels.c
    query = select(s.item_id, s.on_hand).where(s.warehouse_id == warehouse)
    ordered = sorted(set(item_ids))
    levels: dict[int, int] = {}
    for start in range(0, len(ordered), _CHUNK):
        q = query.where(s.item_id.in_(ordered[start:start + _CHUNK]))
        if lock:
            q = q.order_by(s.item_id).with_for_update()
        levels.update(conn.execute(q).all())
    return levels


def apply_stock_changes(conn: Connection, changes: Sequence[StockChange], *, cause: str,
                        file_id: str | None = None, at: datetime | None = None,
                        current: Mapping[tuple[int, int], int] | None = None) -> list[PlannedEntry]:
    """Apply `changes` (keys are (item_id, warehouse_id)) in the caller's transaction.

    Writes the new levels and one ledger entry per level moved, then marks the listings of the changed
    items for a push. Returns the entries written. `current` (optional) holds levels the caller already
    read in this transaction (locked on PostgreSQL, e.g. by `read_warehouse_levels`); a key absent from
    it is read (or created and locked) here, so a large file's levels are not read twice.
    """
    check_cause(cause)
    if not changes:
        return []
    at = at or datetime.now(UTC)
    lock = conn.dialect.name == "postgresql"
    known: Mapping[tuple[int, int], int] = current if current is not None else {}
    keys = {c.key for c in changes if c.key not in known}   # levels not read yet
    if keys and lock:  # make every level exist so that it can be locked; another writer may create it meanwhile
        insert_ignore(conn, schema.stock_levels,
                      [{"item_id": i, "warehouse_id": w, "on_hand": 0, "updated_at": at} for i, w in keys],
                      ["item_id", "warehouse_id"])
    if keys:   # never the caller's mapping: a copy with the levels read here
        known = {**known, **_read_levels(conn, keys, lock)}
    current = known
    new_levels, entries = plan_changes(current, changes)
    sql, stamp = _statements(conn), _stamp(conn, at)
    existing = [(v, stamp, k[0], k[1]) for k, v in new_levels.items() if k in current]
    # every level a change names exists afterwards, even at 0, on SQLite as on PostgreSQL (which creates
    # them above to lock them): "this warehouse holds 0" is a figure, not the absence of one
    fresh = [{"item_id": k[0], "warehouse_id": k[1], "on_hand": new_levels.get(k, 0), "updated_at": at}
             for k in dict.fromkeys(c.key for c in changes) if k not in current]
    if existing:
        _execute_many(conn, sql["update"], existing)
    if fresh:
        conn.execute(schema.stock_levels.insert(), fresh)
    ledger_rows = [(stamp, e.key[0], e.key[1], e.after - e.before, e.after, cause, file_id, e.change.file_row,
                    e.change.reference, e.change.note) for e in entries if e.after != e.before]
    if ledger_rows:
        _execute_many(conn, sql["ledger"], ledger_rows)
        from gateway.channel_sync import outbox  # late import: the outbox builds on this module
        outbox.enqueue_for_items(conn, {row[1] for row in ledger_rows}, at=at)
    return entries


def apply_file_diff(conn: Connection, table: str, warehouse_ids: Sequence[int], *, file_id: str | None,
                    at: datetime | None = None, chunk_rows: int | None = None) -> int:
    """Write a file's staged differing rows (`table`: n, file_row, item, q0, l0, ...; see
    `gateway.pipeline.file_table`) in the caller's transaction, `chunk_rows` rows at a time, set-based: per
    chunk and warehouse one INSERT ... SELECT into the ledger (the delta against the level as it is now)
    and one upsert of the levels, then the outbox for the chunk's moved items. Empty cells change
    nothing; a 0 where no level exists creates it at 0 without a ledger entry. Returns ledger rows written.
    On PostgreSQL the levels were locked when the file was planned; one created meanwhile by another
    writer is locked here before it is read. A failure in any chunk rolls the whole transaction back.
    """
    from gateway.channel_sync import outbox  # late import: the outbox builds on this module

    chunk_rows = chunk_rows or FILE_CHUNK_ROWS
    at = at or datetime.now(UTC)
    postgres = conn.dialect.name == "postgresql"
    stamp, mark = _stamp(conn, at), ("%s" if postgres else "?")
    cursor = conn.connection.cursor()
    written = 0
    try:
        cursor.execute(f"SELECT COALESCE(max(n), 0) FROM {table}")
        total = cursor.fetchone()[0]
        # the levels are upserted in key order: PostgreSQL's writers then lock rows in one order, and SQLite walks
        # the levels' index once (a file in random SKU order upserts five times slower unsorted); on SQLite a
        # diff whose items already rise with n (a file in SKU order, new items made in file order) needs no sort
        order = "ORDER BY d.item "
        if not postgres:
            cursor.execute(f"SELECT 1 FROM {table} a JOIN {table} b ON b.n = a.n + 1 WHERE b.item < a.item LIMIT 1")
            order = order if cursor.fetchone() else ""
        for start in range(1, total + 1, chunk_rows):
            span = (start, start + chunk_rows - 1)
            for k, wh in enumerate(warehouse_ids):
                q, lv, where = f"d.q{k}", f"d.l{k}", f"d.n BETWEEN {mark} AND {mark}"
                if postgres:   # a level missing when planned: create it at 0 and lock it (another writer may have)
                    cursor.execute(
                        f"INSERT INTO stock_levels (item_id, warehouse_id, on_hand, updated_at) SELECT d.item, %s, 0, %s "
                        f"FROM {table} d WHERE {where} AND {q} IS NOT NULL AND {lv} IS NULL ORDER BY d.item "
                        "ON CONFLICT (item_id, warehouse_id) DO NOTHING", (wh, at, *span))
                    cursor.execute(
                        f"SELECT count(*) FROM (SELECT 1 FROM stock_levels s JOIN {table} d ON s.item_id = d.item "
                        f"WHERE s.warehouse_id = %s AND {where} AND {lv} IS NULL ORDER BY s.item_id "
                        "FOR UPDATE OF s) locked", (wh, *span))
                # the level as it is now: on SQLite the level the plan read (the write transaction has held the
                # database since, and each item is one row of the diff); on PostgreSQL read again, as one
                # missing when planned may have been created meanwhile (locked above)
                level, join = (("COALESCE(s.on_hand, 0)", f"LEFT JOIN stock_levels s ON s.item_id = d.item AND "
                                f"s.warehouse_id = {mark} ") if postgres else (f"COALESCE({lv}, 0)", ""))
                cursor.execute(
                    "INSERT INTO ledger (at, item_id, warehouse_id, delta, on_hand_after, cause, file_id, file_row, "
                    f"reference) SELECT {mark}, d.item, {mark}, {q} - {level}, {q}, 'file', {mark}, "
                    f"d.file_row, NULL FROM {table} d {join}WHERE {where} AND {q} IS NOT NULL AND {q} <> {level} "
                    "ORDER BY d.n", (stamp, wh, file_id, *((wh,) if postgres else ()), *span))
                written += max(cursor.rowcount, 0)
                cursor.execute(
                    "INSERT INTO stock_levels (item_id, warehouse_id, on_hand, updated_at) "
                    f"SELECT d.item, {mark}, {q}, {mark} FROM {table} d WHERE {where} AND {q} IS NOT NULL "
                    f"AND {q} IS DISTINCT FROM {lv} {order}ON CONFLICT (item_id, warehouse_id) DO UPDATE "
                    "SET on_hand = excluded.on_hand, updated_at = excluded.updated_at", (wh, stamp, *span))
            moved = " OR ".join(f"(d.q{k} IS NOT NULL AND d.q{k} <> COALESCE(d.l{k}, 0))"
                                for k in range(len(warehouse_ids)))
            # only the moved items that have a listing come back (the outbox owes pushes to listings alone)
            cursor.execute(f"SELECT DISTINCT d.item FROM {table} d JOIN listings l ON l.item_id = d.item "
                           f"WHERE d.n BETWEEN {mark} AND {mark} AND ({moved})", span)
            items = [row[0] for row in cursor.fetchall()]
            if items:
                outbox.enqueue_for_items(conn, items, at=at)
                gc.collect(0)   # its statements hold the chunk's ids in cycles, and a file pauses the collector
    finally:
        cursor.close()
    return written


def apply_zeroing(conn: Connection, table: str, warehouse_id: int, *, file_id: str | None, reference: str,
                  at: datetime | None = None, chunk_rows: int | None = None) -> int:
    """Set to 0 the levels a `full` snapshot does not name (`table`: n, item, on_hand; see
    `gateway.pipeline.file_table.stage_zeroing`) in the caller's transaction, `chunk_rows` at a time: per
    chunk one INSERT ... SELECT into the ledger (the delta against the level as it is now, with
    `reference`), one UPDATE of the levels, then the outbox for the chunk's items. On PostgreSQL the
    warehouse's levels were locked when the file was planned. Returns ledger rows written."""
    from gateway.channel_sync import outbox  # late import: the outbox builds on this module

    chunk_rows = chunk_rows or FILE_CHUNK_ROWS
    at = at or datetime.now(UTC)
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    stamp = _stamp(conn, at)
    cursor = conn.connection.cursor()
    written = 0
    try:
        cursor.execute(f"SELECT COALESCE(max(n), 0) FROM {table}")
        total = cursor.fetchone()[0]
        for start in range(1, total + 1, chunk_rows):
            span = (start, start + chunk_rows - 1)
            chunk = f"SELECT z.item FROM {table} z WHERE z.n BETWEEN {mark} AND {mark}"
            cursor.execute(
                "INSERT INTO ledger (at, item_id, warehouse_id, delta, on_hand_after, cause, file_id, file_row, "
                f"reference) SELECT {mark}, z.item, s.warehouse_id, -s.on_hand, 0, 'file', {mark}, NULL, {mark} "
                f"FROM {table} z JOIN stock_levels s ON s.item_id = z.item AND s.warehouse_id = {mark} "
                f"WHERE z.n BETWEEN {mark} AND {mark} AND s.on_hand <> 0 ORDER BY z.n",
                (stamp, file_id, reference, warehouse_id, *span))
            written += max(cursor.rowcount, 0)
            cursor.execute(f"UPDATE stock_levels SET on_hand = 0, updated_at = {mark} WHERE warehouse_id = {mark} "
                           f"AND on_hand <> 0 AND item_id IN ({chunk})", (stamp, warehouse_id, *span))
            cursor.execute(chunk, span)
            items = [row[0] for row in cursor.fetchall()]
            if items:
                outbox.enqueue_for_items(conn, items, at=at)
                gc.collect(0)   # its statements hold the chunk's ids in cycles, and a file pauses the collector
    finally:
        cursor.close()
    return written


def _manual_inputs(sku: str, note: str | None) -> tuple[str, str | None]:
    """A manual edit's SKU and note, cleaned; UsageError naming what is wrong with either."""
    try:
        return clean_sku(sku), clean_note(note)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def _audit(conn: Connection, actor: str | None, action: str, sku: str, warehouse: str, entry, **detail) -> None:
    """An operator's edit (`actor`: web:NAME, cli:OS_USER) in the audit log, in the edit's transaction."""
    if actor is None:
        return
    from gateway.accounts.audit import record   # late import: the accounts room builds on the database

    moved = {"before": entry.before, "after": entry.after} if entry is not None else {"unchanged": True}
    record(conn, actor=actor, action=action, target=f"{sku}@{warehouse}", detail={**detail, **moved})


def set_stock(conn: Connection, sku: str, warehouse: str, quantity: int, *, reference: str | None = None,
              note: str | None = None, actor: str | None = None) -> PlannedEntry | None:
    """A manual edit: set `sku` in `warehouse` to `quantity` (ledger cause `manual`, with the operator's
    `note` when given; written to the audit log as `stock.set` when an `actor` is named)."""
    from gateway.core.ledger import ChangeKind

    sku, note = _manual_inputs(sku, note)
    if quantity < 0:
        raise UsageError(f"quantity {quantity} is negative: a stock level is 0 or more")
    if quantity > QUANTITY_LIMIT:
        raise UsageError(f"quantity {quantity} is above the limit of {QUANTITY_LIMIT:,}")
    found = find_warehouse(conn, warehouse)
    wh = found.id
    item = ensure_items(conn, [sku])[sku]
    entries = apply_stock_changes(conn, [StockChange((item, wh), ChangeKind.SET, quantity, reference=reference,
                                                     note=note)], cause="manual")
    entry = entries[0] if entries else None
    _audit(conn, actor, "stock.set", sku, found.code, entry, quantity=quantity, note=note)
    return entry


def adjust_stock(conn: Connection, sku: str, warehouse: str, delta: int, *, reference: str | None = None,
                 note: str | None = None, actor: str | None = None) -> PlannedEntry | None:
    """A manual movement: add `delta` (signed) to `sku` in `warehouse` (ledger cause `manual`, with the
    operator's `note` when given; written to the audit log as `stock.adjust` when an `actor` is named).

    Unlike a delta file's row, which is clamped at 0 and warned about, a manual adjustment that would take
    the level below 0 or above the quantity limit is refused (UsageError naming the level) and changes
    nothing: the operator is there to correct it. The level is read locked (PostgreSQL; SQLite's write
    transaction holds the lock), so two adjustments at once both count.
    """
    from gateway.core.ledger import ChangeKind

    sku, note = _manual_inputs(sku, note)
    wh = find_warehouse(conn, warehouse)
    if delta == 0:
        return None
    item = ensure_items(conn, [sku])[sku]
    levels = read_warehouse_levels(conn, wh.id, [item], lock=conn.dialect.name == "postgresql")
    before = levels.get(item, 0)
    if before + delta < 0:
        raise UsageError(f"{sku} in {wh.code} holds {before}: cannot take {-delta} away "
                         f"(a level is never below 0; `stockgate set {sku} {wh.code} 0` zeroes it)")
    if before + delta > QUANTITY_LIMIT:
        raise UsageError(f"{sku} in {wh.code} holds {before}: adding {delta} would pass the limit of "
                         f"{QUANTITY_LIMIT:,}")
    current = {(item, wh.id): before} if item in levels else None
    entries = apply_stock_changes(conn, [StockChange((item, wh.id), ChangeKind.ADD, delta, reference=reference,
                                                     note=note)], cause="manual", current=current)
    entry = entries[0] if entries else None
    _audit(conn, actor, "stock.adjust", sku, wh.code, entry, delta=delta, note=note)
    return entry


def stock_view(conn: Connection, skus: Sequence[str] = ()) -> list[dict]:
    """Items with their on_hand per warehouse and available quantity, ordered by SKU."""
    return list(iter_stock_view(conn, skus))


STOCK_VIEW_BATCH = 5000   # rows fetched from the database at a time by `iter_stock_view`


def iter_stock_view(conn: Connection, skus: Sequence[str] = (), *, contains: str = "") -> Iterator[dict]:
    """`stock_view` lazily: one item at a time, read along the SKU index `STOCK_VIEW_BATCH` rows at a time
    (a server-side cursor on PostgreSQL), so a million items are never all in memory. Consume it inside
    `conn`'s transaction. Each item's warehouses come by priority, then code. `contains`: only items whose
    SKU or title holds that text, in any case (as the inventory page searches)."""
    order = {row.id: (n, row.code, row.sellable) for n, row in enumerate(warehouses(conn).values())}
    i, s = schema.items.c, schema.stock_levels.c
    query = (select(i.sku, s.warehouse_id, s.on_hand)
             .select_from(schema.items.outerjoin(schema.stock_levels, s.item_id == i.id)).order_by(i.sku))
    if skus:
        query = query.where(i.sku.in_(list(skus)))
    if contains:
        query = query.where(or_(i.sku.icontains(contains, autoescape=True),
                                i.title.icontains(contains, autoescape=True)))
    sku_now, levels = None, []
    for sku, wh, on_hand in conn.execution_options(yield_per=STOCK_VIEW_BATCH).execute(query):
        if sku != sku_now:
            if sku_now is not None:
                yield _stock_item(sku_now, levels, order)
            sku_now, levels = sku, []
        if wh is not None:
            if wh not in order:   # a warehouse added since this view began (PostgreSQL reads committed rows)
                order = {row.id: (n, row.code, row.sellable) for n, row in enumerate(warehouses(conn).values())}
            levels.append((wh, on_hand))
    if sku_now is not None:
        yield _stock_item(sku_now, levels, order)


def _stock_item(sku: str, levels: list[tuple[int, int]], order: dict[int, tuple[int, str, bool]]) -> dict:
    by_warehouse, available = {}, 0
    for wh, on_hand in sorted(levels, key=lambda level: order[level[0]][0]):
        _, code, sellable = order[wh]
        by_warehouse[code] = on_hand
        if sellable:
            available += on_hand
    return {"sku": sku, "warehouses": by_warehouse, "available": available}


def ledger_view(conn: Connection, sku: str | None = None, limit: int | None = None) -> list[dict]:
    """Ledger entries, oldest first, optionally for one SKU."""
    l, i, w = schema.ledger.c, schema.items.c, schema.warehouses.c
    query = (select(l.id, l.at, i.sku, w.code, l.delta, l.on_hand_after, l.cause, l.file_id, l.file_row, l.reference,
                    l.note)
             .join_from(schema.ledger, schema.items, i.id == l.item_id)
             .join(schema.warehouses, w.id == l.warehouse_id).order_by(l.id))
    if sku is not None:
        query = query.where(i.sku == sku)
    if limit:
        query = query.limit(limit)
    return [{"id": r.id, "at": iso(r.at), "sku": r.sku, "warehouse": r.code, "delta": r.delta,
             "on_hand_after": r.on_hand_after, "cause": r.cause, "file_id": r.file_id, "row": r.file_row,
             "reference": r.reference, "note": r.note} for r in conn.execute(query)]


def ledger_sums(conn: Connection) -> dict[tuple[int, int], int]:
    """Sum of ledger deltas per (item, warehouse): the invariant says it equals on_hand."""
    l = schema.ledger.c
    return {(r[0], r[1]): r[2] for r in conn.execute(
        select(l.item_id, l.warehouse_id, func.sum(l.delta)).group_by(l.item_id, l.warehouse_id))}

