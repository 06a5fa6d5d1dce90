"""Turn a parsed file into stock changes against the database's current levels (reads only).

Set-based on purpose: one read of the item map and of each warehouse's levels, then list comparisons,
so a 1,000,000-row file costs a few scans, not a query per row. Writing is `apply_stock_changes`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import compress
from operator import ne
from datetime import datetime

from sqlalchemy import Connection, func, select

from gateway.clock import as_utc, iso
from gateway.core.ledger import ChangeKind, StockChange
from gateway.db import schema
from gateway.stock import WarehouseRow, catalog_ids, ensure_items, item_ids, read_warehouse_levels
from parsers import Issue, ParsedFile, ParseOptions, make_issue
from parsers.columns import find_column

ABSENT_FROM_SNAPSHOT = "absent from full snapshot"
_BULK_FROM = 2000   # rows: above this, read whole tables once instead of looking keys up


@dataclass(frozen=True)
class PlanRules:
    """What the source allows and asks for, beyond the file itself."""

    mode: str                                    # absolute | partial | full | delta
    warehouse: str | None                        # stock files: their warehouse
    allowed: frozenset[str] | None = None        # warehouses the sender may write; None: any
    create_unknown_skus: bool = False
    max_zero_fraction: float = 0.5
    min_rows: int = 1
    guard: bool = True                           # False when releasing a held file
    create_items: bool = True                    # False in a dry run: unknown SKUs get provisional ids


@dataclass
class FilePlan:
    """The stock changes a file makes and everything the report says about them."""

    rejected: list[Issue] = field(default_factory=list)     # file-level errors: nothing applied
    held: Issue | None = None                                # snapshot guard
    changes: list[StockChange] = field(default_factory=list)
    current: dict[tuple[int, int], int] = field(default_factory=dict)   # levels before, of changed keys
    issues: list[Issue] = field(default_factory=list)        # UNKNOWN_SKU, ORDER_ADJUSTMENT, CLAMPED_AT_ZERO
    error_rows: set[int] = field(default_factory=set)        # rows failed here (unknown SKUs)
    rows_applied: int = 0
    rows_unchanged: int = 0
    increased: int = 0
    decreased: int = 0
    zeroed: int = 0
    warehouse_ids: list[int] = field(default_factory=list)   # every warehouse the file writes


def resolve_warehouses(parsed: ParsedFile, rules: PlanRules, known: dict[str, WarehouseRow]
                       ) -> tuple[list[tuple[str, WarehouseRow]], list[Issue]]:
    """(quantity key, warehouse) pairs of the file, or the file-level issues that reject it."""
    known_list = ", ".join(known)
    folded: dict[str, list[str]] = {}
    for code in known:
        folded.setdefault(code.casefold(), []).append(code)
    pairs, problems = [], []
    columns = [("quantity", rules.warehouse or "")] if parsed.kind == "stock" else [
        (name, name) for name in parsed.warehouse_columns]
    for key, name in columns:
        code = name if name in known else (folded.get(name.casefold()) or [None, None])[0]
        if code is None or len(folded.get(name.casefold(), [])) > 1 and name not in known:
            problems.append(make_issue("UNKNOWN_WAREHOUSE", column=name, known=known_list))
        elif rules.allowed is not None and code not in rules.allowed:
            problems.append(make_issue("WAREHOUSE_NOT_ALLOWED", column=name))
        else:
            pairs.append((key, known[code]))
    return pairs, problems


def stale_issues(conn: Connection, pairs: list[tuple[str, WarehouseRow]], as_of: datetime) -> list[Issue]:
    """STALE_FILE when `as_of` is older than the newest file already applied for one of the warehouses."""
    m = schema.warehouse_file_marks.c
    ids = {wh.id: wh.code for _, wh in pairs}
    problems = []
    for wh_id, last in conn.execute(select(m.warehouse_id, m.last_as_of).where(m.warehouse_id.in_(list(ids)))):
        if as_utc(as_of) < as_utc(last):
            problems.append(make_issue("STALE_FILE", as_of=iso(as_of), newest_as_of=iso(last),
                                       warehouse=ids[wh_id]))
    return problems


def ordered_since(conn: Connection, warehouse_ids: list[int], as_of: datetime) -> dict[tuple[str, int], int]:
    """Units of accepted orders allocated per (sku, warehouse id) and placed after `as_of`, not restored."""
    a, ol, o = schema.allocations.c, schema.order_lines.c, schema.orders.c
    units = func.sum(a.units - a.restored_units)
    query = (select(ol.sku, a.warehouse_id, units)
             .join_from(schema.allocations, schema.order_lines, ol.id == a.order_line_id)
             .join(schema.orders, o.id == ol.order_pk)
             .where(o.status == "accepted", a.placed_at > as_utc(as_of), a.warehouse_id.in_(warehouse_ids))
             .group_by(ol.sku, a.warehouse_id))
    return {(sku, wh): int(n) for sku, wh, n in conn.execute(query) if n and n > 0}


def _item_ids(conn: Connection, parsed: ParsedFile, rules: PlanRules, plan: FilePlan, sku_column: str
              ) -> list[int | None]:
    """Item id per valid row (None for an unknown SKU, reported as UNKNOWN_SKU unless created)."""
    skus = parsed.skus
    found = catalog_ids(conn) if len(skus) > _BULK_FROM else item_ids(conn, skus)
    ids = list(map(found.get, skus))
    unknown = [i for i, item in enumerate(ids) if item is None]
    if unknown and rules.create_unknown_skus:
        new = [skus[i] for i in unknown]
        if rules.create_items:
            found.update(ensure_items(conn, new))
        else:
            found.update({sku: -n for n, sku in enumerate(new, 1)})   # provisional ids, never written
        ids = list(map(found.get, skus))
    elif unknown:
        rows = parsed.row_numbers
        for i in unknown:
            plan.issues.append(make_issue("UNKNOWN_SKU", row=rows[i], column=sku_column, value=skus[i]))
            plan.error_rows.add(rows[i])
    return ids


def _adjust_for_orders(conn: Connection, parsed: ParsedFile, pairs, quantities: dict[str, list],
                       as_of: datetime, plan: FilePlan, quantity_column: str | None) -> None:
    """Lower absolute quantities by units ordered after as_of (never below 0), with a warning each."""
    ordered = ordered_since(conn, [wh.id for _, wh in pairs], as_of)
    if not ordered:
        return
    position = {sku: i for i, sku in enumerate(parsed.skus)}
    by_wh = {wh.id: key for key, wh in pairs}
    copied: set[str] = set()
    for (sku, wh_id), units in sorted(ordered.items()):
        i, key = position.get(sku), by_wh.get(wh_id)
        if i is None or key is None or quantities[key][i] is None:
            continue
        if key not in copied:   # never change the parser's own lists
            quantities[key], copied = list(quantities[key]), copied | {key}
        value = quantities[key][i]
        quantities[key][i] = max(value - units, 0)
        column = key if parsed.kind == "quantity_update" else quantity_column
        plan.issues.append(make_issue("ORDER_ADJUSTMENT", row=parsed.row_numbers[i], column=column, value=value,
                                      sku=sku, adjusted=quantities[key][i], units=units))


def column_names(parsed: ParsedFile, options: ParseOptions) -> tuple[str | None, str | None]:
    """The header text of the SKU column and (stock files) the quantity column, for issue locations."""
    names = []
    for role in ("sku", "quantity"):
        index, _ = find_column(parsed.header, role, options, required=False)
        names.append(parsed.header[index] if index is not None else None)
    return names[0], names[1]


def plan_file(conn: Connection, parsed: ParsedFile, options: ParseOptions, rules: PlanRules,
              known: dict[str, WarehouseRow], as_of: datetime, *, file_id: str | None,
              lock: bool = False) -> FilePlan:
    """Everything `parsed` would change, checked against permissions, staleness and the snapshot guard."""
    plan = FilePlan()
    pairs, plan.rejected = resolve_warehouses(parsed, rules, known)
    if plan.rejected:
        return plan
    plan.rejected = stale_issues(conn, pairs, as_of)
    if plan.rejected:
        return plan
    plan.warehouse_ids = [wh.id for _, wh in pairs]
    sku_column, quantity_column = column_names(parsed, options)
    ids = _item_ids(conn, parsed, rules, plan, sku_column)
    quantities = dict(parsed.quantities)
    if rules.mode != "delta":
        _adjust_for_orders(conn, parsed, pairs, quantities, as_of, plan, quantity_column)
    rows = parsed.row_numbers
    changed_rows: set[int] = set()
    for key, wh in pairs:
        _plan_column(conn, plan, ids, quantities[key], rows, wh, rules, changed_rows, parsed,
                     quantity_column or key, lock)
    if rules.mode == "full":
        _plan_zeroing(conn, plan, ids, parsed, pairs[0][1], rules, file_id, lock)
    plan.rows_applied = len(changed_rows)
    plan.rows_unchanged = sum(1 for item in ids if item is not None) - plan.rows_applied
    plan.issues.sort(key=lambda issue: issue.row or 0)
    return plan


def _count(plan: FilePlan, before: int, after: int) -> None:
    if after > before:
        plan.increased += 1
    elif after == 0:
        plan.zeroed += 1
    else:
        plan.decreased += 1


def _plan_column(conn, plan: FilePlan, ids: list, values: list, rows: list[int], wh: WarehouseRow,
                 rules: PlanRules, changed_rows: set[int], parsed: ParsedFile, column: str, lock: bool) -> None:
    """Changes for one warehouse column: a SET where the value differs, an ADD for a delta."""
    if len(ids) > _BULK_FROM:
        levels = read_warehouse_levels(conn, wh.id, None, lock=lock)
    else:
        wanted = [item for item, v in zip(ids, values) if item is not None and v is not None and item > 0]
        levels = read_warehouse_levels(conn, wh.id, wanted, lock=lock) if wanted else {}
    current = list(map(levels.get, ids))
    append, wid, current_plan = plan.changes.append, wh.id, plan.current
    if rules.mode == "delta":
        candidates = list(compress(range(len(values)), values))
    else:   # C-speed comparison: only the cells that differ reach the Python loop below
        candidates = list(compress(range(len(values)), map(ne, current, values)))
    for i in candidates:
        item, value = ids[i], values[i]
        if item is None or value is None:
            continue
        before = current[i] or 0
        if rules.mode == "delta":
            after = before + value
            if after < 0:
                plan.issues.append(make_issue("CLAMPED_AT_ZERO", row=rows[i], column=column, value=f"{value:+d}",
                                              sku=parsed.skus[i], warehouse=wh.code, on_hand=before, result=after))
                after = 0
            if after == before:
                continue
            append(StockChange((item, wid), ChangeKind.ADD, value, file_row=rows[i]))
        else:
            if before == value:
                continue
            after = value
            append(StockChange((item, wid), ChangeKind.SET, value, file_row=rows[i]))
        if current[i] is not None:
            current_plan[(item, wid)] = before
        changed_rows.add(i)
        _count(plan, before, after)


def _plan_zeroing(conn, plan: FilePlan, ids: list, parsed: ParsedFile, wh: WarehouseRow, rules: PlanRules,
                  file_id: str | None, lock: bool) -> None:
    """`full`: this warehouse's SKUs absent from the file go to 0, never one whose row failed; the guard."""
    levels = read_warehouse_levels(conn, wh.id, None, lock=lock)
    listed = set(ids)
    failed = set(item_ids(conn, parsed.failed_skus).values()) if parsed.failed_skus else set()
    for item, on_hand in levels.items():
        if on_hand > 0 and item not in listed and item not in failed:
            plan.changes.append(StockChange((item, wh.id), ChangeKind.SET, 0, reference=ABSENT_FROM_SNAPSHOT))
            plan.current[(item, wh.id)] = on_hand
            plan.zeroed += 1
    if not rules.guard:
        return
    stocked = sum(1 for on_hand in levels.values() if on_hand > 0)
    shown_id = file_id or "FILE_ID"
    if parsed.total_rows < rules.min_rows:
        plan.held = make_issue("TOO_FEW_ROWS", rows=parsed.total_rows, min_rows=rules.min_rows, file_id=shown_id)
    elif stocked and plan.zeroed / stocked > rules.max_zero_fraction:
        plan.held = make_issue("SNAPSHOT_GUARD", zeroed=plan.zeroed, stocked=stocked,
                               allowed=rules.max_zero_fraction, file_id=shown_id)
