"""Turn a parsed file into stock changes against the database's current levels (reads only).

Set-based on purpose, so a 1,000,000-row file costs a few scans, not a query per row. A file being applied
is staged: its rows go into a TEMP table (COPY on PostgreSQL), new items are created from it, and one join
keeps the rows that differ in a second TEMP table, counted in SQL (a `delta` file: the level each summed
movement leads to, clamped at 0, its CLAMPED_AT_ZERO and QUANTITY_TOO_LARGE found there); `plan.staged`
says so, and `stock.apply_file_diff` writes them a chunk at a time (`gateway.pipeline.file_table`); a dry
run plans the same way in its read transaction and reads the changes back from there. A file of absolute
figures read whole by `parse_file` can still be planned from its columns (`_plan_in_sqlite`,
`_plan_from_reads`: tests compare the staged plan with it); a `delta` file is planned staged only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import compress
from operator import itemgetter, ne

from sqlalchemy import Connection, func, select, text

from gateway.clock import as_utc, iso
from gateway.core.ledger import ChangeKind, StockChange
from gateway.core.skus import DigitSkus, spreadsheet_form, spreadsheet_originals
from gateway.db import schema
from gateway.pipeline import file_table
from gateway.pipeline.staging import StagedRows
from gateway.stock import (
    WarehouseRow,
    catalog_ids,
    ensure_items,
    item_ids,
    read_warehouse_levels,
    skus_of,
)
from parsers import Issue, ParsedFile, ParseOptions, make_issue
from parsers.columns import find_column
from parsers.issues import LISTED_ISSUES, QUANTITY_LIMIT

ABSENT_FROM_SNAPSHOT = "absent from full snapshot"
_BULK_FROM = 2000   # rows: above this, read whole tables once instead of looking keys up
MARKS_LOCK_SPACE = 0x5347   # first key of the two-key advisory locks on warehouses' as_of marks ("SG")


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
    future_skew: timedelta = timedelta(minutes=10)   # a mark later than its file's receipt by more is untrusted


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
    untrusted_marks: list[int] = field(default_factory=list)  # warehouses whose as_of mark came from the future
    zeroed_issues: list[Issue] = field(default_factory=list)  # `full`: ZEROED_BY_SNAPSHOT, one per SKU, by SKU
    protected_items: set[int] = field(default_factory=set)    # known items a mangled SKU probably meant
    replaced: dict[int, Issue] = field(default_factory=dict)  # id(parser issue) -> the issue to report instead
    digit_skus: DigitSkus | None = None                       # the catalog's digit SKUs, once read
    staged: bool = False   # the differing rows wait in file_table.DIFF for stock.apply_file_diff (not in changes)
    first_rows: dict[str, int] = field(default_factory=dict)  # streamed: a repeated SKU's first row
    unlisted: dict[str, int] = field(default_factory=dict)    # streamed: issues past LISTED_ISSUES, by code
    unlisted_error_rows: int = 0                              # streamed: rows failed here, not in error_rows
    zero_staged: bool = False   # `full`, staged: the levels it zeroes wait in file_table.ZERO (stock.apply_zeroing)
    zeroed_unlisted: int = 0    # staged `full`: ZEROED_BY_SNAPSHOT issues past the first LISTED_ISSUES, counted
    provisional: bool = False   # a dry run's staged plan: its new SKUs' rows are in file_table.DIFF with item -seq


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


def lock_warehouse_marks(conn: Connection, warehouse_ids: Iterable[int]) -> None:
    """PostgreSQL: hold the warehouses' as_of marks until the transaction ends (in id order, so two files
    never wait for each other), so the stale check and the new mark of one file are never interleaved."""
    for warehouse_id in sorted(set(warehouse_ids)):
        conn.execute(text("SELECT pg_advisory_xact_lock(:space, :id)"),
                     {"space": MARKS_LOCK_SPACE, "id": warehouse_id})


def is_snapshot(mode: str) -> bool:
    """Whether a file of this mode gives a moment's absolute figures (`partial`, `full`, a Quantity
    Update), so an older one arriving later is stale and it sets the warehouses' as_of marks. A `delta`
    file carries movements: it is never stale, and never makes a later-arriving older snapshot stale."""
    return mode != "delta"


def stale_issues(conn: Connection, pairs: list[tuple[str, WarehouseRow]], as_of: datetime,
                 skew: timedelta = timedelta(minutes=10), untrusted: list[int] | None = None) -> list[Issue]:
    """STALE_FILE when `as_of` is older than the newest snapshot already applied for one of the warehouses.

    A mark later than the receipt of the file that set it by more than `skew` was set by a file from the
    future (applied before FUTURE_AS_OF refused such files): it counts as that file's receipt time, and
    its warehouse is added to `untrusted`, so the next applied file replaces the mark.
    """
    m, f = schema.warehouse_file_marks.c, schema.files.c
    ids = {wh.id: wh.code for _, wh in pairs}
    problems = []
    query = (select(m.warehouse_id, m.last_as_of, f.received_at)
             .join_from(schema.warehouse_file_marks, schema.files, f.seq == m.last_file_seq, isouter=True)
             .where(m.warehouse_id.in_(list(ids))))
    for wh_id, last, received in conn.execute(query):
        last = as_utc(last)
        if received is not None and last > as_utc(received) + skew:
            last = as_utc(received)
            if untrusted is not None:
                untrusted.append(wh_id)
        if as_utc(as_of) < last:
            problems.append(make_issue("STALE_FILE", as_of=iso(as_of), newest_as_of=iso(last),
                                       warehouse=ids[wh_id]))
    return problems


def ordered_since(conn: Connection, warehouse_ids: list[int], as_of: datetime) -> dict[tuple[str, int], int]:
    """Units that orders placed after `as_of` took from each (sku, warehouse id) and still hold: every
    allocation's units less those restored, whatever its order's status now (an order cancelled without
    restoring stock keeps its units off the shelf; a restored one counts its units back)."""
    a, ol = schema.allocations.c, schema.order_lines.c
    units = func.sum(a.units - a.restored_units)
    query = (select(ol.sku, a.warehouse_id, units)
             .join_from(schema.allocations, schema.order_lines, ol.id == a.order_line_id)
             .where(a.placed_at > as_utc(as_of), a.warehouse_id.in_(warehouse_ids))
             .group_by(ol.sku, a.warehouse_id))
    return {(sku, wh): int(n) for sku, wh, n in conn.execute(query) if n and n > 0}


def _item_ids(conn: Connection, parsed: ParsedFile, rules: PlanRules, plan: FilePlan, sku_column: str | None,
              file_id: str | None) -> list[int | None]:
    """Item id per valid row (None for an unknown SKU, reported as UNKNOWN_SKU unless created)."""
    skus = parsed.skus
    found = catalog_ids(conn) if len(skus) > _BULK_FROM else item_ids(conn, skus)
    ids = list(map(found.get, skus))
    unknown = [i for i, item in enumerate(ids) if item is None]
    if unknown:
        created = _unknown_skus(conn, parsed, rules, plan, sku_column, unknown, file_id)
        if created:
            found.update(created)
            ids = list(map(found.get, skus))
    return ids


def _unknown_skus(conn: Connection, parsed: ParsedFile, rules: PlanRules, plan: FilePlan, sku_column: str | None,
                  unknown: list[int], file_id: str | None) -> dict[str, int]:
    """The rows (indexes) whose SKU is not in the catalog: SKU_LOOKS_MANGLED for those a spreadsheet
    probably made from a known SKU (or that are in a spreadsheet's form), never created; for the others
    their new item ids by SKU when the source may create items (provisional negative ids in a dry run,
    never written; each new item remembers `file_id`), else UNKNOWN_SKU each and {}.
    """
    skus, rows, suspect = parsed.skus, parsed.row_numbers, parsed.suspect_skus
    unknown = _refuse_mangled(conn, plan, sku_column, [(i, rows[i], skus[i], suspect.get(skus[i])) for i in unknown])
    if not unknown:
        return {}
    if rules.create_unknown_skus:
        new = [skus[i] for i in unknown]
        if rules.create_items:
            return ensure_items(conn, new, created_by_file=file_id)
        return {sku: -n for n, sku in enumerate(new, 1)}
    for i in unknown:
        plan.issues.append(make_issue("UNKNOWN_SKU", row=rows[i], column=sku_column, value=skus[i], sku=skus[i]))
        plan.error_rows.add(rows[i])
    return {}


def _digit_skus(conn: Connection, plan: FilePlan) -> DigitSkus:
    """The catalog's SKUs made of digits only, indexed (read once per file, when a SKU needs it)."""
    if plan.digit_skus is None:
        where = ("sku NOT GLOB '*[^0-9]*'" if conn.dialect.name == "sqlite" else "sku ~ '^[0-9]+$'")
        plan.digit_skus = DigitSkus(conn.execute(text(f"SELECT sku FROM items WHERE {where}")).scalars())
    return plan.digit_skus


def _known_text(found: list[str]) -> str:
    if len(found) == 1:
        return f"it is probably the known SKU '{found[0]}'"
    more = f" or {len(found) - 3:,} more" if len(found) > 3 else ""
    return "it is probably one of the known SKUs " + ", ".join(f"'{k}'" for k in found[:3]) + more


def _protect(conn: Connection, plan: FilePlan, found: list[str]) -> None:
    """A `full` snapshot never zeroes a known SKU that a mangled row probably meant."""
    plan.protected_items.update(item_ids(conn, found).values())


def _refuse_mangled(conn: Connection, plan: FilePlan, sku_column: str | None,
                    unknown: list[tuple[int, int, str, str | None]]) -> list[int]:
    """SKU_LOOKS_MANGLED for the unknown SKUs a spreadsheet probably changed; the keys of the rest.

    `unknown`: (key, row number, SKU, the parser's suspicion or None) per unknown row, in file order.
    """
    def maybe(sku: str, suspicion: str | None) -> bool:
        return suspicion is not None or (sku.isascii() and sku.isdigit()) or "+" in sku

    if not any(maybe(sku, suspicion) for _, _, sku, suspicion in unknown):
        return [key for key, _, _, _ in unknown]
    known = _digit_skus(conn, plan)
    rest = []
    for key, row, sku, suspicion in unknown:
        reason, found = spreadsheet_originals(sku, known) if maybe(sku, suspicion) else ("", [])
        if found:
            _protect(conn, plan, found)
            text_known = _known_text(found)
        elif suspicion is not None or (spreadsheet_form(sku) or ("",))[0] == "scientific notation":
            reason = suspicion or "scientific notation"
            text_known = "no SKU in the catalog matches it, and none is created from it"
        else:
            rest.append(key)
            continue
        plan.issues.append(make_issue("SKU_LOOKS_MANGLED", row=row, column=sku_column, value=sku, sku=sku,
                                      reason=reason, known=text_known))
        plan.error_rows.add(row)
    return rest


def _name_mangled_parser_rows(conn: Connection, parsed: ParsedFile, plan: FilePlan) -> None:
    """The parser's SKU_LOOKS_MANGLED rows (XLSX numbers past 15 digits): name the known SKU they probably
    were, and keep a `full` snapshot from zeroing it."""
    for issue in parsed.issues:
        if issue.code != "SKU_LOOKS_MANGLED" or not issue.sku:
            continue
        reason, found = spreadsheet_originals(issue.sku, _digit_skus(conn, plan))
        if found:
            _protect(conn, plan, found)
            plan.replaced[id(issue)] = make_issue(
                "SKU_LOOKS_MANGLED", row=issue.row, column=issue.column, value=issue.value, sku=issue.sku,
                reason=f"a number cell: {reason}", known=_known_text(found))


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


_REPEATS = ("DUPLICATE_SKU_AGREES", "DUPLICATE_SKU_SUMMED")


def repeats_of_failed_rows(parsed: ParsedFile, plan: FilePlan) -> list[Issue]:
    """The parser's issues, where a repeated SKU's row (DUPLICATE_SKU_AGREES, DUPLICATE_SKU_SUMMED) points
    at a kept row that failed here (an unknown SKU...): its message then says it was not applied either,
    never "only row N counts"."""
    repeats = {i.sku for i in parsed.issues if i.code in _REPEATS} if plan.error_rows else set()
    if not repeats:
        return [plan.replaced.get(id(i), i) for i in parsed.issues] if plan.replaced else parsed.issues
    first = plan.first_rows if parsed.streamed else {
        sku: row for sku, row in zip(parsed.skus, parsed.row_numbers) if sku in repeats}
    issues = []
    for issue in parsed.issues:
        issue = plan.replaced.get(id(issue), issue)
        row = first.get(issue.sku) if issue.code in _REPEATS else None
        if row in plan.error_rows:
            outcome = (f"neither was applied: row {row} has an error" if issue.code == "DUPLICATE_SKU_AGREES"
                       else f"was not applied either: row {row} has an error")
            issue = make_issue(issue.code, row=issue.row, column=issue.column, value=issue.value, sku=issue.sku,
                               other_row=row, outcome=outcome)
        issues.append(issue)
    return issues


def column_names(parsed: ParsedFile, options: ParseOptions) -> tuple[str | None, str | None]:
    """The header text of the SKU column and (stock files) the quantity column, for issue locations."""
    names = []
    for role in ("sku", "quantity"):
        index, _ = find_column(parsed.header, role, options, required=False)
        names.append(parsed.header[index] if index is not None else None)
    return names[0], names[1]


def plan_file(conn: Connection, parsed: ParsedFile, options: ParseOptions, rules: PlanRules,
              known: dict[str, WarehouseRow], as_of: datetime, *, file_id: str | None,
              lock: bool = False, staged: StagedRows | None = None) -> FilePlan:
    """Everything `parsed` would change, checked against permissions, staleness (snapshots only) and the
    snapshot guard. A streamed file (`parsed.streamed`) has its rows in the database already (`staged`)."""
    plan = FilePlan()
    pairs, plan.rejected = resolve_warehouses(parsed, rules, known)
    if plan.rejected:
        return plan
    if is_snapshot(rules.mode):
        if lock:
            lock_warehouse_marks(conn, [wh.id for _, wh in pairs])
        plan.rejected = stale_issues(conn, pairs, as_of, rules.future_skew, plan.untrusted_marks)
        if plan.rejected:
            return plan
    plan.warehouse_ids = [wh.id for _, wh in pairs]
    _name_mangled_parser_rows(conn, parsed, plan)
    sku_column, quantity_column = column_names(parsed, options)
    quantities = dict(parsed.quantities)
    if staged is None and rules.mode == "delta":   # its repeats are added up, its clamps found, only when staged
        raise ValueError("a delta file is planned from its staged rows only (staging.stage_stream)")
    if staged is not None:
        plan.first_rows = staged.first_rows
        if rules.mode != "delta":   # movements are never lowered for orders
            _adjust_staged_for_orders(conn, parsed, pairs, staged, as_of, plan, quantity_column)
    else:
        _adjust_for_orders(conn, parsed, pairs, quantities, as_of, plan, quantity_column)
    columns = [(quantities[key], wh, quantity_column or key) for key, wh in pairs]
    if staged is not None:
        _plan_staged(conn, plan, parsed, rules, columns, sku_column, file_id, lock, staged)
    elif conn.dialect.name == "sqlite":
        _plan_in_sqlite(conn, plan, parsed, rules, columns, sku_column, file_id)
    else:
        _plan_from_reads(conn, plan, parsed, rules, columns, sku_column, file_id, lock)
    plan.issues.sort(key=lambda issue: issue.row or 0)
    return plan


def _plan_from_reads(conn: Connection, plan: FilePlan, parsed: ParsedFile, rules: PlanRules, columns: list,
                     sku_column: str | None, file_id: str | None, lock: bool) -> None:
    """Plan by reading item ids and levels into Python (PostgreSQL: the levels are locked as they are read)."""
    ids = _item_ids(conn, parsed, rules, plan, sku_column, file_id)
    changed_rows: set[int] = set()
    for values, wh, column in columns:
        if len(ids) > _BULK_FROM:
            levels = read_warehouse_levels(conn, wh.id, None, lock=lock)
        else:
            wanted = [item for item, v in zip(ids, values) if item is not None and v is not None and item > 0]
            levels = read_warehouse_levels(conn, wh.id, wanted, lock=lock) if wanted else {}
        current = list(map(levels.get, ids))
        # C-speed comparison: only the cells that differ reach the Python loop
        candidates = compress(range(len(values)), map(ne, current, values))
        _plan_cells(plan, ((i, ids[i], values[i], current[i]) for i in candidates), wh, rules, changed_rows,
                    parsed, column)
    if rules.mode == "full":
        wh = columns[0][1]
        levels = read_warehouse_levels(conn, wh.id, None, lock=lock)
        listed = set(ids)
        _plan_zeroing(conn, plan, [(item, n) for item, n in levels.items() if n > 0 and item not in listed],
                      sum(1 for n in levels.values() if n > 0), parsed, wh, rules, file_id)
    plan.rows_applied = len(changed_rows)
    plan.rows_unchanged = sum(1 for item in ids if item is not None) - plan.rows_applied


def _adjust_staged_for_orders(conn: Connection, parsed: ParsedFile, pairs, staged: StagedRows, as_of: datetime,
                              plan: FilePlan, quantity_column: str | None) -> None:
    """`_adjust_for_orders` for a streamed file: the ordered SKUs' staged cells are lowered in the database."""
    ordered = ordered_since(conn, [wh.id for _, wh in pairs], as_of)
    if not ordered:
        return
    column_of = {wh.id: (staged.columns.index(key), key) for key, wh in pairs}
    found = file_table.rows_of_skus(conn, sorted({sku for sku, _ in ordered}), len(staged.columns))
    cells = []
    for (sku, wh_id), units in sorted(ordered.items()):
        row, (k, key) = found.get(sku), column_of.get(wh_id, (None, None))
        if row is None or k is None or row[2 + k] is None:
            continue
        value = row[2 + k]
        adjusted = max(value - units, 0)
        cells.append((k, adjusted, row[0]))
        column = key if parsed.kind == "quantity_update" else quantity_column
        plan.issues.append(make_issue("ORDER_ADJUSTMENT", row=row[1], column=column, value=value, sku=sku,
                                      adjusted=adjusted, units=units))
    file_table.set_cells(conn, cells)


def _plan_staged(conn: Connection, plan: FilePlan, parsed: ParsedFile, rules: PlanRules, columns: list,
                 sku_column: str | None, file_id: str | None, lock: bool, staged: StagedRows) -> None:
    """Plan a file being applied whose rows were staged in the database as they were read (both engines):
    unknown SKUs are refused, reported or created there, the differing rows stay in `file_table.DIFF` and
    are counted in SQL; only the `full` zeroing comes back as `StockChange`s. The staged tables stay for
    the apply."""
    warehouse_ids = [wh.id for _, wh, _ in columns]
    known_rows = staged.kept
    unknown = file_table.unknown_count(conn)
    if unknown:
        suspects = file_table.unknown_suspects(conn)
        rest = set(_refuse_mangled(conn, plan, sku_column, suspects))
        refused = [seq for seq, _, _, _ in suspects if seq not in rest]
        if refused:   # refused as mangled: never created, never applied
            file_table.drop_rows(conn, refused)
        if rules.create_unknown_skus:
            if rules.create_items:
                file_table.create_unknown_items(conn, file_id, _stamp_for(conn))
            else:   # a dry run creates nothing: the new SKUs' rows stay, with provisional ids
                plan.provisional = True
            known_rows -= len(refused)
        else:
            listed = file_table.unknown_rows(conn, max(LISTED_ISSUES - len(parsed.issues) - len(plan.issues), 0))
            for row, sku in listed:
                plan.issues.append(make_issue("UNKNOWN_SKU", row=row, column=sku_column, value=sku, sku=sku))
                plan.error_rows.add(row)
            unlisted = unknown - len(refused) - len(listed)
            if unlisted:   # counted, not listed: a file of a million unknown SKUs reports the first ones
                plan.unlisted["UNKNOWN_SKU"] = unlisted
                plan.unlisted_error_rows += unlisted
            file_table.drop_unknown(conn)
            known_rows -= unknown
    if lock:
        file_table.lock_levels(conn, warehouse_ids)
    if rules.mode == "delta":
        file_table.stage_delta_diff(conn, warehouse_ids, QUANTITY_LIMIT, provisional=plan.provisional)
        _staged_delta_issues(conn, plan, parsed, columns)
    else:
        file_table.stage_diff(conn, warehouse_ids, provisional=plan.provisional)
    plan.rows_applied, plan.increased, plan.decreased, plan.zeroed = file_table.diff_counts(conn, len(warehouse_ids))
    plan.rows_unchanged = known_rows - plan.rows_applied
    plan.staged = True
    if rules.mode == "full":
        wh = columns[0][1]
        if lock:
            file_table.lock_warehouse(conn, wh.id)   # every level the snapshot may zero
        _plan_staged_zeroing(conn, plan, parsed, wh, rules, file_id)


def _staged_delta_issues(conn: Connection, plan: FilePlan, parsed: ParsedFile, columns: list) -> None:
    """`_plan_cells`' CLAMPED_AT_ZERO and QUANTITY_TOO_LARGE for a staged `delta` file, found in its DIFF: the
    first ones (by row, then warehouse) listed, the rest counted, as UNKNOWN_SKU is."""
    count = len(columns)
    clamped, large, large_rows = file_table.delta_issue_counts(conn, count, QUANTITY_LIMIT)
    if not clamped and not large:
        return
    budget = max(LISTED_ISSUES - len(parsed.issues) - len(plan.issues), 0)
    listed = {"CLAMPED_AT_ZERO": 0, "QUANTITY_TOO_LARGE": 0}
    for row, k, sku, before, value, too_large in file_table.delta_issue_cells(conn, count, QUANTITY_LIMIT, budget):
        _, wh, column = columns[k]
        if too_large:
            plan.issues.append(Issue("QUANTITY_TOO_LARGE", "error", f"{sku} in {wh.code}: {before:,} "
                                     f"{value:+,d} would be {before + value:,}, above the limit of {QUANTITY_LIMIT:,}",
                                     row, column, f"{value:+d}", sku))
            plan.error_rows.add(row)
            listed["QUANTITY_TOO_LARGE"] += 1
        else:
            plan.issues.append(make_issue("CLAMPED_AT_ZERO", row=row, column=column, value=f"{value:+d}", sku=sku,
                                          warehouse=wh.code, on_hand=before, result=before + value))
            listed["CLAMPED_AT_ZERO"] += 1
    for code, total in (("CLAMPED_AT_ZERO", clamped), ("QUANTITY_TOO_LARGE", large)):
        if total > listed[code]:
            plan.unlisted[code] = plan.unlisted.get(code, 0) + total - listed[code]
    plan.unlisted_error_rows += large_rows - len({i.row for i in plan.issues if i.code == "QUANTITY_TOO_LARGE"})


def _plan_staged_zeroing(conn: Connection, plan: FilePlan, parsed: ParsedFile, wh: WarehouseRow, rules: PlanRules,
                         file_id: str | None) -> None:
    """`_plan_zeroing` for a staged `full` snapshot: the levels it zeroes stay in `file_table.ZERO` (counted
    there, applied by `stock.apply_zeroing`); only the first LISTED_ISSUES of them, by SKU, come back for
    ZEROED_BY_SNAPSHOT issues, and the rest are counted (`_listed` adds them to ISSUES_NOT_LISTED)."""
    spared = set(plan.protected_items)
    if parsed.failed_skus:
        spared |= set(item_ids(conn, parsed.failed_skus).values())
    count = file_table.stage_zeroing(conn, wh.id, sorted(spared))
    plan.zeroed += count
    plan.zero_staged = True
    _guard(plan, file_table.stocked_count(conn, wh.id), parsed, rules, file_id)
    if plan.held is None and count:   # a held file changes nothing: its guard issue gives the count
        listed = file_table.zeroed_by_sku(conn, LISTED_ISSUES)
        plan.zeroed_issues = [make_issue("ZEROED_BY_SNAPSHOT", sku=sku, warehouse=wh.code, on_hand=on_hand)
                              for sku, on_hand in listed]
        plan.zeroed_unlisted = count - len(listed)


def _stamp_for(conn: Connection):
    """Now, as the driver stores a timestamp (SQLite: SQLAlchemy's DATETIME text)."""
    from datetime import UTC, datetime
    at = datetime.now(UTC)
    return at.strftime("%Y-%m-%d %H:%M:%S.%f") if conn.dialect.name == "sqlite" else at


def _plan_in_sqlite(conn: Connection, plan: FilePlan, parsed: ParsedFile, rules: PlanRules, columns: list,
                    sku_column: str | None, file_id: str | None) -> None:
    """Plan with the file's rows in a TEMP table: SQLite compares, only differing rows come back.

    (SQLite needs no row locks: a write transaction holds the database lock from its start.)
    """
    with file_table.file_rows(conn, parsed.skus, [values for values, _, _ in columns]):
        rows = file_table.differing_rows(conn, [wh.id for _, wh, _ in columns])
        unknown = [n for n, row in enumerate(rows) if row[1] is None]
        known_rows = len(parsed.skus) - len(unknown)
        if unknown:
            found = _unknown_skus(conn, parsed, rules, plan, sku_column, [rows[n][0] for n in unknown], file_id)
            if found:
                for n in unknown:
                    item = found.get(parsed.skus[rows[n][0]])   # None: refused as mangled, never created
                    if item is not None:
                        known_rows += 1
                        rows[n] = (rows[n][0], item, *rows[n][2:])
        changed_rows: set[int] = set()
        for k, (_, wh, column) in enumerate(columns, 1):
            value, level = itemgetter(2 * k), itemgetter(2 * k + 1)
            # the row differs somewhere; only this column's differing cells reach the Python loop
            picked = compress(rows, map(ne, map(value, rows), map(level, rows)))
            _plan_cells(plan, ((row[0], row[1], row[2 * k], row[2 * k + 1]) for row in picked), wh, rules,
                        changed_rows, parsed, column)
        if rules.mode == "full":
            wh = columns[0][1]
            _plan_zeroing(conn, plan, file_table.absent_stocked_levels(conn, wh.id),
                          file_table.stocked_count(conn, wh.id), parsed, wh, rules, file_id)
    plan.rows_applied = len(changed_rows)
    plan.rows_unchanged = known_rows - plan.rows_applied


def _count(plan: FilePlan, before: int, after: int) -> None:
    if after > before:
        plan.increased += 1
    elif after == 0:
        plan.zeroed += 1
    else:
        plan.decreased += 1


def _plan_cells(plan: FilePlan, cells: Iterable[tuple[int, int | None, int | None, int | None]], wh: WarehouseRow,
                rules: PlanRules, changed_rows: set[int], parsed: ParsedFile, column: str) -> None:
    """SETs for one warehouse column of a file of absolute figures read whole, from candidate cells (row index,
    item id, value, current level), where the value differs. Cells without an item or a value change nothing;
    a 0 for a level that does not exist yet creates it at 0 (the row counts as unchanged: nothing moved). (A
    `delta` file is planned staged only: `_plan_staged`.)
    """
    append, wid, current_plan, rows = plan.changes.append, wh.id, plan.current, parsed.row_numbers
    for i, item, value, current in cells:
        if item is None or value is None:
            continue
        before = current or 0
        if before == value:
            if current is None:   # a level named 0 that does not exist yet: created at 0, nothing moved
                append(StockChange((item, wid), ChangeKind.SET, 0, file_row=rows[i]))
            continue
        after = value
        append(StockChange((item, wid), ChangeKind.SET, value, file_row=rows[i]))
        if current is not None:
            current_plan[(item, wid)] = before
        changed_rows.add(i)
        _count(plan, before, after)


def _plan_zeroing(conn, plan: FilePlan, absent: Iterable[tuple[int, int]], stocked: int, parsed: ParsedFile,
                  wh: WarehouseRow, rules: PlanRules, file_id: str | None) -> None:
    """`full`: the warehouse's stocked levels absent from the file go to 0, never one whose row failed;
    then the guard (`stocked`: how many levels of the warehouse are above 0).
    """
    failed = set(item_ids(conn, parsed.failed_skus).values()) if parsed.failed_skus else set()
    failed |= plan.protected_items
    zeroed: list[tuple[int, int]] = []
    for item, on_hand in absent:
        if item not in failed:
            plan.changes.append(StockChange((item, wh.id), ChangeKind.SET, 0, reference=ABSENT_FROM_SNAPSHOT))
            plan.current[(item, wh.id)] = on_hand
            plan.zeroed += 1
            zeroed.append((item, on_hand))
    _guard(plan, stocked, parsed, rules, file_id)
    if plan.held is None and zeroed:   # a held file changes nothing: its guard issue gives the count
        skus = skus_of(conn, [item for item, _ in zeroed])
        plan.zeroed_issues = sorted(
            (make_issue("ZEROED_BY_SNAPSHOT", sku=skus[item], warehouse=wh.code, on_hand=on_hand)
             for item, on_hand in zeroed), key=lambda issue: issue.sku)


def _guard(plan: FilePlan, stocked: int, parsed: ParsedFile, rules: PlanRules, file_id: str | None) -> None:
    """The snapshot guard of a `full` file: held when it has too few rows or zeroes too many of the
    warehouse's `stocked` levels (those above 0)."""
    if rules.guard:
        shown_id = file_id or "FILE_ID"
        if parsed.total_rows < rules.min_rows:
            plan.held = make_issue("TOO_FEW_ROWS", rows=parsed.total_rows, min_rows=rules.min_rows,
                                   file_id=shown_id)
        elif stocked and plan.zeroed / stocked > rules.max_zero_fraction:
            plan.held = make_issue("SNAPSHOT_GUARD", zeroed=plan.zeroed, stocked=stocked,
                                   allowed=rules.max_zero_fraction, file_id=shown_id)
