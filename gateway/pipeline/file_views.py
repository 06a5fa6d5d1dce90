"""One file as its report page and `/api/v1/files/{id}` show it: its summary and report, its issues a page
at a time, the actions it allows now, and where its original bytes are stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, func, select

from gateway.core.files import FileStatus
from gateway.db import schema
from gateway.errors import NotFoundError, UsageError
from gateway.pipeline.history import file_summary
from gateway.pipeline.report import issues_csv

ISSUES_PER_PAGE = 200
SEVERITIES = ("error", "warning", "info")
_UNFINISHED = (FileStatus.RECEIVED.value, FileStatus.PROCESSING.value)


def _row(conn: Connection, file_id: str) -> Row:
    row = conn.execute(select(schema.files).where(schema.files.c.file_id == file_id)).first()
    if row is None:
        raise NotFoundError(f"no file {file_id!r} (see the upload history)")
    return row


def actions_allowed(status: str) -> dict[str, bool]:
    """Which actions a file in `status` allows: release and reject a held file; reprocess a finished or
    held one (not one still waiting); preview one not applied yet (received or held)."""
    return {"release": status == FileStatus.HELD.value, "reject": status == FileStatus.HELD.value,
            "reprocess": status not in _UNFINISHED,
            "preview": status in (FileStatus.RECEIVED.value, FileStatus.HELD.value)}


def file_detail(conn: Connection, file_id: str) -> dict[str, Any]:
    """The file's summary (as the history lists it) with its size, sha256 and options, its report document
    (None until processed), the count of its issues by severity, the files that re-ran it and the one it
    re-ran, and the actions it allows. NotFoundError for an unknown file."""
    row = _row(conn, file_id)
    i, f = schema.file_issues.c, schema.files.c
    counts = dict(conn.execute(select(i.severity, func.count()).where(i.file_seq == row.seq).group_by(i.severity)).all())
    reruns = conn.execute(select(f.file_id, f.status).where(f.forced_from == file_id).order_by(f.seq)).all()
    options = json.loads(row.options or "{}")
    return {**file_summary(row), "create_unknown_skus": bool(options.get("create_unknown_skus")), "sheet": options.get("sheet"),
            "report": json.loads(row.report) if row.report else None,
            "issue_counts": {s: counts.get(s, 0) for s in SEVERITIES}, "issue_count": sum(counts.values()),
            "forced_from": row.forced_from, "reruns": [{"file_id": r.file_id, "status": r.status} for r in reruns],
            "actions": actions_allowed(row.status)}


def issues_page(conn: Connection, file_id: str, *, page: int = 1, per_page: int = ISSUES_PER_PAGE,
                severity: str | None = None) -> dict[str, Any]:
    """One page of the file's issues in report order (`severity`: only those), with `total` and `pages`.
    UsageError for a page past the last or an unknown severity; NotFoundError for an unknown file."""
    if severity and severity not in SEVERITIES:
        raise UsageError(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    if page < 1 or per_page < 1:
        raise UsageError(f"page {page} with {per_page} per page: both must be 1 or more")
    row = _row(conn, file_id)
    i = schema.file_issues.c
    where = [i.file_seq == row.seq, *([i.severity == severity] if severity else [])]
    total = conn.execute(select(func.count()).select_from(schema.file_issues).where(*where)).scalar_one()
    pages = max(1, -(-total // per_page))
    if page > pages:
        raise UsageError(f"page {page} does not exist: the file has {total:,} issue" + ("" if total == 1 else "s")
                         + f", {pages:,} page" + ("" if pages == 1 else "s") + f" of {per_page}")
    issues = [dict(r._mapping) for r in conn.execute(
        select(i.row, i.sku, i.column, i.value, i.severity, i.code, i.message).where(*where).order_by(i.id)
        .offset((page - 1) * per_page).limit(per_page))]
    return {"file_id": file_id, "issues": issues, "total": total, "page": page, "per_page": per_page,
            "pages": pages, "severity": severity}


def report_document(conn: Connection, file_id: str) -> dict[str, Any]:
    """The file's report JSON document; NotFoundError for an unknown file, UsageError while it is not
    processed yet (a report is written when it has been)."""
    row = _row(conn, file_id)
    if row.report is None:
        raise UsageError(f"file {file_id} is {row.status}: its report is written when it has been processed")
    return json.loads(row.report)


def report_issues_csv(conn: Connection, file_id: str) -> str:
    """The report's issues as the spreadsheet-safe CSV of `stockgate report --format csv`, with a BOM."""
    return issues_csv(report_document(conn, file_id)["issues"], bom=True)


@dataclass(frozen=True)
class StoredOriginal:
    """Where a file's bytes are kept (spool, then archive) and the name its sender gave it."""

    path: Path
    name: str
    size: int


def stored_original(conn: Connection, file_id: str) -> StoredOriginal:
    """The file's bytes as received; NotFoundError for an unknown file or a stored copy that is gone."""
    row = _row(conn, file_id)
    path = Path(row.spool_path)
    if not path.is_file():
        raise NotFoundError(f"file {file_id}: its stored copy is gone (the archive was cleaned?)")
    name = row.name.replace("\\", "/").rsplit("/", 1)[-1] or "file"   # a folder drop's `erp/x.csv`: `x.csv`
    return StoredOriginal(path, name, path.stat().st_size)
