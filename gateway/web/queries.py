"""What the web pages read from the database: plain dicts and lists, one function per page.

Orders reuse the view the CLI prints (`list_orders`); stock and listings have their own rooms' views
(`gateway.stock.inventory`, `gateway.channel_sync.listing_views`),
so the page and `stockgate ... --json` always agree.
"""

from __future__ import annotations

import io
import json
from typing import Any, BinaryIO

from sqlalchemy import Connection, func, select

from gateway.clock import iso
from gateway.db import schema
from gateway.orders.views import list_orders
from gateway.pipeline.history import file_history
from gateway.spreadsheet_csv import SpreadsheetCsvWriter
from gateway.stock import iter_stock_view, warehouses

PER_PAGE = 50
ISSUE_LIMIT = 1000       # issues shown on a report page; the CSV download has them all
LATEST_FILES = 10


def _file_dict(r: Any) -> dict[str, Any]:
    return {"file_id": r.file_id, "name": r.name, "transport": r.transport, "account": r.account,
            "source": r.source, "warehouse": r.warehouse, "kind": r.kind, "mode": r.mode, "status": r.status,
            "message": r.status_message, "received_at": iso(r.received_at), "as_of": iso(r.as_of),
            "finished_at": iso(r.finished_at), "size": r.size, "sha256": r.sha256,
            "rows": {"total": r.rows_total, "applied": r.rows_applied, "errors": r.rows_errors,
                     "warnings": r.rows_warnings}}


def history(conn: Connection, *, status: str | None = None, warehouse: str | None = None, page: int = 1,
            per_page: int = PER_PAGE) -> tuple[list[dict], bool]:
    """One page of the Bulk Upload History, newest first, and whether an older page exists (`file_history`:
    a warehouse's stock files and the Quantity Update files that changed it)."""
    rows = file_history(conn, status=status, warehouse=warehouse, limit=per_page + 1, offset=(page - 1) * per_page)
    return [_file_dict(r) for r in rows[:per_page]], len(rows) > per_page


def dashboard(conn: Connection) -> dict[str, Any]:
    """Counts for the dashboard and the latest files."""
    f = schema.files.c

    def count(table, *where) -> int:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()

    by_status = dict(conn.execute(select(f.status, func.count()).group_by(f.status)).all())
    return {
        "files_by_status": by_status,
        "files": sum(by_status.values()),
        "items": count(schema.items),
        "warehouses": count(schema.warehouses),
        "channels": count(schema.channels),
        "listings": count(schema.listings, schema.listings.c.status == "active"),
        "unlinked_listings": count(schema.listings, schema.listings.c.item_id.is_(None),
                                   schema.listings.c.status == "active"),
        "orders": count(schema.orders),
        "pending_pushes": count(schema.push_outbox),
        "latest": history(conn, per_page=LATEST_FILES)[0],
    }


def file_detail(conn: Connection, file_id: str) -> dict[str, Any] | None:
    """One file with its report document (None until processed) and its first issues; None if unknown."""
    row = conn.execute(select(schema.files).where(schema.files.c.file_id == file_id)).first()
    if row is None:
        return None
    i = schema.file_issues.c
    issues = [dict(r._mapping) for r in conn.execute(
        select(i.row, i.sku, i.column, i.value, i.severity, i.code, i.message)
        .where(i.file_seq == row.seq).order_by(i.id).limit(ISSUE_LIMIT))]
    total = conn.execute(select(func.count()).select_from(schema.file_issues).where(i.file_seq == row.seq)).scalar_one()
    detail = _file_dict(row)
    f = schema.files.c
    reruns = conn.execute(select(f.file_id, f.status).where(f.forced_from == file_id).order_by(f.seq)).all()
    detail.update(report=json.loads(row.report) if row.report else None, issues=issues, issue_count=total,
                  forced_from=row.forced_from, reruns=[{"file_id": r.file_id, "status": r.status} for r in reruns])
    return detail


def report_document(conn: Connection, file_id: str) -> tuple[bool, dict | None]:
    """(file exists, its report JSON document or None while it is not processed)."""
    f = schema.files.c
    row = conn.execute(select(f.report).where(f.file_id == file_id)).first()
    if row is None:
        return False, None
    return True, json.loads(row.report) if row.report else None


def write_stock_csv(conn: Connection, out: BinaryIO, *, search: str = "") -> int:
    """The inventory page's table for every SKU containing `search` (any case) as CSV into `out`: UTF-8
    with a BOM, SKU, on hand per warehouse (empty where the SKU has no level there) and Available; read
    and written a batch at a time (`iter_stock_view`). How many SKUs."""
    codes = warehouse_codes(conn)
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=False)
    writer = SpreadsheetCsvWriter(text)
    writer.writerow(["SKU", *codes, "Available"])
    count = 0
    for count, item in enumerate(iter_stock_view(conn, contains=search), 1):
        levels = item["warehouses"]
        writer.writerow([item["sku"], *[levels.get(code, "") for code in codes], item["available"]])
    text.flush()
    text.detach()       # `out` stays open for the caller
    return count


def warehouse_codes(conn: Connection) -> list[str]:
    """Every warehouse code, by priority."""
    return list(warehouses(conn))


def channel_names(conn: Connection) -> list[str]:
    """Every channel name, alphabetically."""
    c = schema.channels.c
    return list(conn.execute(select(c.name).order_by(c.name)).scalars())


def orders(conn: Connection, channel: str | None) -> list[dict]:
    """`list_orders` of one channel (or all), newest placement first."""
    return list_orders(conn, channel)
