"""Rejecting a held file: the operator's answer "no" to the snapshot guard (`release` is the "yes").

The file moves `held -> rejected` in one transaction that checks it is still held (a release that got
there first wins, and this one is refused); none of its rows is applied. Its report keeps what the
guard found and gains a REJECTED_ON_REQUEST issue naming who rejected it and why; the report files are
rewritten and the stored copy archived, as for any finished file. The audit entry (`file.reject`) is
written in the same transaction.
"""

from __future__ import annotations

import json

from sqlalchemy import select, update

from gateway.accounts import audit
from gateway.clock import iso, now
from gateway.core.files import FileStatus, check_transition
from gateway.db import schema
from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.pipeline.claims import finish_after_commit
from gateway.pipeline.process import FileFacts
from gateway.pipeline.report import Report
from gateway.settings import Settings
from parsers import make_issue

REASON_MAX = 500   # characters of a rejection's reason kept in the report


def clean_reason(reason: str | None) -> str | None:
    """The reason as the report keeps it: one line, control characters as spaces; None when empty.
    UsageError when longer than REASON_MAX."""
    text = " ".join("".join(c if c.isprintable() else " " for c in reason or "").split())
    if len(text) > REASON_MAX:
        raise UsageError(f"the reason is {len(text):,} characters long; at most {REASON_MAX} are kept")
    return text or None


def reject(db: Database, settings: Settings, file_id: str, *, actor: str, reason: str | None = None) -> Report:
    """Reject a `held` file: nothing applied, its report says who (`actor`) rejected it and why; the new
    report. NotFoundError for an unknown file, UsageError for one that is not held (released meanwhile,
    say)."""
    reason = clean_reason(reason)
    f = schema.files.c
    with db.write() as conn:
        row = conn.execute(select(schema.files).where(f.file_id == file_id)).first()
        if row is None:
            raise NotFoundError(f"no file {file_id!r} (see `stockgate history`)")
        if row.status != FileStatus.HELD.value:
            raise UsageError(f"file {file_id} is {row.status}: only a held file can be rejected")
        check_transition(FileStatus.HELD, FileStatus.REJECTED)
        issue = make_issue("REJECTED_ON_REQUEST", actor=actor,
                           because=f": {reason}" if reason else " (no reason given)")
        finished = now()
        document = dict(json.loads(row.report))
        document.update(status=FileStatus.REJECTED.value, finished_at=iso(finished),
                        issues=[*document["issues"], issue.as_dict()])
        result = conn.execute(
            update(schema.files).where(f.file_id == file_id, f.status == FileStatus.HELD.value)
            .values(status=FileStatus.REJECTED.value, finished_at=finished, status_message=issue.message,
                    report=json.dumps(document)))
        if result.rowcount != 1:   # PostgreSQL: a release claimed it between the read and this update
            raise UsageError(f"file {file_id} is no longer held: only a held file can be rejected")
        conn.execute(schema.file_issues.insert().values(
            file_seq=row.seq, row=None, sku=None, column=None, value=None, severity=issue.severity,
            code=issue.code, message=issue.message))
        audit.record(conn, actor=actor, action="file.reject", target=file_id, detail={"reason": reason})
    report = Report(document)
    finish_after_commit(db, settings, FileFacts.from_row(row), report)
    return report
