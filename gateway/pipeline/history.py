"""The Bulk Upload History: received files newest first, filtered, a page at a time or all as CSV.

Filters (CLI `history`, the web page and `/api/v1/files` alike): status, warehouse, transport, account,
a range of receipt times and a part of the file name. A warehouse's history holds its stock files and
every Quantity Update template that changed one of its levels (a ledger entry of that file in that
warehouse); a template that changed nothing there, or was rejected, names no warehouse of its own and
is left out.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, func, or_, select

from gateway.clock import as_utc, iso
from gateway.core.files import FileStatus
from gateway.db import schema
from gateway.db.engine import Database
from gateway.errors import UsageError
from gateway.spreadsheet_csv import SpreadsheetCsvWriter
from gateway.stock import find_warehouse

STATUSES = tuple(status.value for status in FileStatus)
TRANSPORTS = ("ftp", "sftp", "folder", "cli", "web")
CSV_BATCH = 1000     # rows read per short transaction while the CSV streams
CSV_HEADER = ("file_id", "received_at", "name", "transport", "account", "source", "warehouse", "kind", "mode",
              "status", "rows_total", "rows_applied", "rows_errors", "rows_warnings", "finished_at", "message")


@dataclass(frozen=True)
class HistoryFilter:
    """Which files a history shows; empty fields do not filter. `since`/`until` bound the receipt time
    (`since` inclusive, `until` exclusive); `name` is a part of the file name, in any case."""

    status: str | None = None
    warehouse: str | None = None
    transport: str | None = None
    account: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.status and self.status not in STATUSES:
            raise UsageError(f"status {self.status!r} is not one of {', '.join(STATUSES)}")
        if self.transport and self.transport not in TRANSPORTS:
            raise UsageError(f"transport {self.transport!r} is not one of {', '.join(TRANSPORTS)}")
        if self.since and self.until and self.until <= self.since:
            raise UsageError(f"the date range ends ({iso(self.until)}) before it starts ({iso(self.since)})")

    def as_params(self) -> dict[str, str]:
        """The filter as query parameters (for links to other pages of the same list)."""
        values = {"status": self.status, "warehouse": self.warehouse, "transport": self.transport,
                  "account": self.account, "since": iso(self.since), "until": iso(self.until), "name": self.name}
        return {key: value for key, value in values.items() if value}


def time_bound(text: str | None, what: str, *, end: bool = False) -> datetime | None:
    """A range bound given by a user: an ISO time, or a date (`end`: the midnight after it, so a range
    ending on a date includes that whole day). None for an empty text; UsageError naming a bad one."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{what} {text!r} is not a date or ISO-8601 time (e.g. 2026-11-26 or "
                         f"2026-11-26T08:30:00Z)") from None
    if end and len(text) == 10:   # a date alone: up to the end of that day
        value += timedelta(days=1)
    return as_utc(value)


def history_filter(*, status: str | None = None, warehouse: str | None = None, transport: str | None = None,
                   account: str | None = None, since: str | None = None, until: str | None = None,
                   name: str | None = None) -> HistoryFilter:
    """A HistoryFilter from texts as a form, a query string or the command line give them."""
    def text(value: str | None) -> str | None:
        return (value or "").strip() or None

    return HistoryFilter(status=text(status), warehouse=text(warehouse), transport=text(transport),
                         account=text(account), since=time_bound(since, "since"),
                         until=time_bound(until, "until", end=True), name=text(name))


def _where(conn: Connection, filters: HistoryFilter) -> list:
    f, l = schema.files.c, schema.ledger.c
    where = []
    if filters.status:
        where.append(f.status == filters.status)
    if filters.warehouse:   # found without regard to case; NotFoundError naming the known codes
        wh = find_warehouse(conn, filters.warehouse)
        changed_it = select(l.id).where(l.file_id == f.file_id, l.warehouse_id == wh.id).exists()
        where.append(or_(func.lower(f.warehouse) == wh.code.lower(), and_(f.kind == "quantity_update", changed_it)))
    if filters.transport:
        where.append(f.transport == filters.transport)
    if filters.account:
        where.append(func.lower(f.account) == filters.account.lower())
    if filters.since:
        where.append(f.received_at >= filters.since)
    if filters.until:
        where.append(f.received_at < filters.until)
    if filters.name:
        where.append(f.name.icontains(filters.name, autoescape=True))   # `%` and `_` are plain characters
    return where


def file_history(conn: Connection, filters: HistoryFilter | None = None, *, status: str | None = None,
                 warehouse: str | None = None, limit: int = 50, offset: int = 0) -> list[Row]:
    """Rows of `files` matching `filters` (or just `status`/`warehouse`), newest first: at most `limit`
    after skipping `offset`."""
    filters = filters or HistoryFilter(status=status, warehouse=warehouse)
    query = (select(schema.files).where(*_where(conn, filters)).order_by(schema.files.c.seq.desc())
             .offset(offset).limit(limit))
    return list(conn.execute(query).all())


def count_history(conn: Connection, filters: HistoryFilter) -> int:
    """How many files match `filters`."""
    return conn.execute(select(func.count()).select_from(schema.files).where(*_where(conn, filters))).scalar_one()


def file_summary(r: Any) -> dict[str, Any]:
    """One file as `stockgate history --json` and `/api/v1/files` show it."""
    return {"file_id": r.file_id, "name": r.name, "transport": r.transport, "account": r.account,
            "source": r.source, "warehouse": r.warehouse, "kind": r.kind, "mode": r.mode, "status": r.status,
            "received_at": iso(r.received_at), "as_of": iso(r.as_of), "finished_at": iso(r.finished_at),
            "size": r.size, "sha256": r.sha256, "rows": {"total": r.rows_total, "applied": r.rows_applied, "errors": r.rows_errors,
                     "warnings": r.rows_warnings},
            "message": r.status_message}


def history_page(conn: Connection, filters: HistoryFilter, *, page: int = 1, per_page: int = 50) -> dict[str, Any]:
    """One page of the history: `files`, `total` matching, `page`, `per_page` and `pages`. A page past the
    last is a UsageError naming how many there are (page 1 of an empty history is fine)."""
    if page < 1 or per_page < 1:
        raise UsageError(f"page {page} with {per_page} per page: both must be 1 or more")
    total = count_history(conn, filters)
    pages = max(1, -(-total // per_page))
    if page > pages:
        raise UsageError(f"page {page} does not exist: {total:,} file" + ("" if total == 1 else "s")
                         + f" make {pages:,} page" + ("" if pages == 1 else "s") + f" of {per_page}")
    rows = file_history(conn, filters, limit=per_page, offset=(page - 1) * per_page)
    return {"files": [file_summary(r) for r in rows], "total": total, "page": page, "per_page": per_page,
            "pages": pages, "has_more": page < pages}


def _csv_row(r: Any) -> list:
    return [r.file_id, iso(r.received_at), r.name, r.transport, r.account, r.source, r.warehouse, r.kind, r.mode,
            r.status, r.rows_total, r.rows_applied, r.rows_errors, r.rows_warnings, iso(r.finished_at),
            r.status_message]


def history_csv(db: Database, filters: HistoryFilter, *, bom: bool = True) -> Iterator[str]:
    """Every file matching `filters` as CSV text, newest first, a chunk per `CSV_BATCH` files, each batch
    read in its own short transaction (keyed on the receipt order, so a long download holds no
    transaction open and files arriving meanwhile never shift it). Cells a spreadsheet would run are
    neutralised; the first chunk starts with a UTF-8 BOM (`bom`) and the header row. The filter's
    warehouse is checked before the first chunk is made (NotFoundError)."""
    with db.read() as conn:
        _where(conn, filters)

    def chunks() -> Iterator[str]:
        out = io.StringIO()
        writer = SpreadsheetCsvWriter(out)
        out.write("\ufeff" if bom else "")
        writer.writerow(CSV_HEADER)
        before: int | None = None
        while True:
            with db.read() as conn:
                query = select(schema.files).where(*_where(conn, filters))
                if before is not None:
                    query = query.where(schema.files.c.seq < before)
                rows = conn.execute(query.order_by(schema.files.c.seq.desc()).limit(CSV_BATCH)).all()
            for r in rows:
                writer.writerow(_csv_row(r))
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            if len(rows) < CSV_BATCH:
                return
            before = rows[-1].seq

    return chunks()

