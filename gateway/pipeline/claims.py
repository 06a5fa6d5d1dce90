"""Which worker processes which file: claims, the order of receipt per warehouse, release and recovery.

A claim moves a `received` file to `processing` in its own short transaction. PostgreSQL picks the
candidate with SELECT ... FOR UPDATE SKIP LOCKED; SQLite (which ignores FOR UPDATE) serialises writers
and the claim is a conditional UPDATE that must change exactly one row. Either way a file is claimed once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Connection, exists, or_, select, update

from gateway.clock import as_utc, now
from gateway.core.files import FINAL, FileStatus, check_transition
from gateway.db import schema
from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.intake import Delivery
from gateway.pipeline.kinds import FileKind
from gateway.pipeline.process import (
    FileFacts, Outcome, Phase, archive_path, archive_spool, build_report, cyclic_gc_paused, decide, load_facts,
    process_claimed, read_and_parse, record_outcome, report_folder,
)
from gateway.pipeline.report import Report, report_paths, write_report_files
from gateway.settings import Settings
from gateway.stock import warehouses
from parsers import make_issue

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3   # a file that crashed processing this often is rejected instead of retried forever
_WAITING = (FileStatus.RECEIVED.value, FileStatus.PROCESSING.value)


def _claim(conn: Connection, file_id: str, worker_id: str, from_status: FileStatus) -> bool:
    f = schema.files.c
    check_transition(from_status, FileStatus.PROCESSING)
    result = conn.execute(update(schema.files).where(f.file_id == file_id, f.status == from_status.value)
                          .values(status=FileStatus.PROCESSING.value, claimed_by=worker_id, claimed_at=now(),
                                  attempts=f.attempts + 1))
    return result.rowcount == 1


def claim_next(db: Database, *, worker_id: str) -> str | None:
    """Claim the oldest `received` file that may go now; its id, or None when none waits.

    A file waits while an earlier file of its warehouse is received or processing; a Quantity Update
    (which may write any warehouse) waits for every earlier file, and every later file waits for it.
    """
    f = schema.files.c
    earlier = schema.files.alias("earlier")
    e = earlier.c
    blocked = exists().where(e.seq < f.seq, e.status.in_(_WAITING),
                             or_(e.warehouse == f.warehouse, e.warehouse.is_(None), f.warehouse.is_(None)))
    query = (select(f.file_id).where(f.status == FileStatus.RECEIVED.value, ~blocked).order_by(f.seq))
    with db.write() as conn:
        if db.is_postgres:
            file_id = conn.execute(query.limit(1).with_for_update(skip_locked=True, of=schema.files)).scalar()
            return file_id if file_id and _claim(conn, file_id, worker_id, FileStatus.RECEIVED) else None
        for file_id in conn.execute(query.limit(5)).scalars().all():
            if _claim(conn, file_id, worker_id, FileStatus.RECEIVED):
                return file_id
    return None


def _facts(db: Database, file_id: str) -> FileFacts:
    with db.read() as conn:
        facts = load_facts(conn, file_id)
    if facts is None:
        raise NotFoundError(f"no file {file_id!r} (see `stockgate history`)")
    return facts


def _run(db: Database, settings: Settings, file_id: str, worker_id: str, *, guard: bool,
         on_phase: Phase | None) -> Report:
    facts = _facts(db, file_id)
    try:
        report = process_claimed(db, settings, facts, worker_id=worker_id, guard=guard, on_phase=on_phase)
    except Exception as exc:
        _give_back(db, settings, facts, worker_id, exc)
        raise
    finish_after_commit(db, settings, facts, report)
    return report


def finish_after_commit(db: Database, settings: Settings, facts: FileFacts, report: Report) -> None:
    """Write the report files and, for a finished file, archive its spool copy."""
    write_report_files(report, report_folder(settings, facts))
    if FileStatus(report.status) in FINAL:
        archive_spool(db, settings, facts)


def _give_back(db: Database, settings: Settings, facts: FileFacts, worker_id: str, exc: Exception) -> None:
    """After a failure: back to `received` for another try, or `rejected` after MAX_ATTEMPTS."""
    f = schema.files.c
    report = None
    with db.write() as conn:
        row = conn.execute(select(f.status, f.claimed_by, f.attempts).where(f.file_id == facts.file_id)).first()
        if row is None or row.status != FileStatus.PROCESSING.value or row.claimed_by != worker_id:
            return
        message = f"processing failed: {type(exc).__name__}: {exc}"[:1000]
        if row.attempts < MAX_ATTEMPTS:
            check_transition(FileStatus.PROCESSING, FileStatus.RECEIVED)
            conn.execute(update(schema.files).where(f.file_id == facts.file_id)
                         .values(status=FileStatus.RECEIVED.value, claimed_by=None, status_message=message))
            return
        kind = FileKind("stock", facts.mode, facts.warehouse) if facts.warehouse else FileKind(
            "quantity_update", "absolute", None)
        issue = make_issue("UNREADABLE_FILE", reason=f"{message} ({row.attempts} attempts)")
        outcome = Outcome(FileStatus.REJECTED, kind, facts.as_of or facts.received_at, issues=[issue])
        report = build_report(facts, outcome, time.monotonic())
        record_outcome(conn, facts, outcome, report, worker_id=worker_id)
    if report is not None:
        finish_after_commit(db, settings, facts, report)


def process_file(db: Database, settings: Settings, file_id: str, *, worker_id: str = "cli",
                 on_phase: Phase | None = None) -> Report:
    """Process one file now: claim it if it is `received` (or go on if `worker_id` holds it); its report."""
    facts = _facts(db, file_id)
    claimed = facts.claimed_by == worker_id
    if not claimed:
        with db.write() as conn:
            claimed = _claim(conn, file_id, worker_id, FileStatus.RECEIVED)
    if not claimed:
        status = _facts_status(db, file_id)
        raise UsageError(f"file {file_id} is {status}, not waiting to be processed")
    return _run(db, settings, file_id, worker_id, guard=True, on_phase=on_phase)


def _facts_status(db: Database, file_id: str) -> str:
    with db.read() as conn:
        return conn.execute(select(schema.files.c.status).where(schema.files.c.file_id == file_id)).scalar_one()


def process_next(db: Database, settings: Settings, *, worker_id: str) -> str | None:
    """Claim and process the oldest file that may go now; its id, or None when none waits."""
    file_id = claim_next(db, worker_id=worker_id)
    if file_id is not None:
        _run(db, settings, file_id, worker_id, guard=True, on_phase=None)
    return file_id


def release(db: Database, settings: Settings, file_id: str, *, worker_id: str = "release",
            on_phase: Phase | None = None) -> Report:
    """Apply a `held` file despite the snapshot guard (it is still checked for staleness and duplicates)."""
    facts = _facts(db, file_id)
    with db.write() as conn:
        claimed = _claim(conn, file_id, worker_id, FileStatus.HELD)
    if not claimed:
        raise UsageError(f"file {file_id} is {_facts_status(db, file_id)}: only a held file can be released")
    return _run(db, settings, file_id, worker_id, guard=False, on_phase=on_phase)


def recover(db: Database, settings: Settings, *, stale_after: timedelta | None = None) -> dict[str, int]:
    """After a crash: files left `processing` go back to `received` (only claims older than `stale_after`
    when given), and finished files whose report files or archiving were cut short are completed."""
    f = schema.files.c
    counts = {"requeued": 0, "reports_written": 0, "archived": 0}
    with db.write() as conn:
        query = update(schema.files).where(f.status == FileStatus.PROCESSING.value)
        if stale_after is not None:
            query = query.where(f.claimed_at < now() - stale_after)
        check_transition(FileStatus.PROCESSING, FileStatus.RECEIVED)
        counts["requeued"] = conn.execute(query.values(status=FileStatus.RECEIVED.value, claimed_by=None)).rowcount
    with db.read() as conn:
        finished = conn.execute(select(schema.files).where(
            f.status.in_([s.value for s in FINAL] + [FileStatus.HELD.value]), f.report.is_not(None),
            f.spool_path.not_like(f"{Path(settings.data_dir) / 'archive'}%"))).all()
    for row in finished:
        facts = FileFacts.from_row(row)
        report = Report(json.loads(row.report))
        json_path, _csv_path = report_paths(report_folder(settings, facts), facts.name, facts.file_id)
        if not json_path.exists():
            write_report_files(report, report_folder(settings, facts))
            counts["reports_written"] += 1
        if FileStatus(row.status) in FINAL and Path(facts.spool_path) != archive_path(settings, facts):
            archive_spool(db, settings, facts)
            counts["archived"] += 1
    if any(counts.values()):
        log.info("recovered files: %s", counts)
    return counts


def preview(db: Database, settings: Settings, delivery: Delivery, data: bytes) -> Report:
    """What processing `data` would do (a dry run): validated and planned, nothing written or recorded."""
    started = time.monotonic()
    received = now()
    facts = FileFacts(None, None, delivery.name, delivery.transport, delivery.warehouse,
                      delivery.mode if delivery.warehouse else "absolute", hashlib.sha256(data).hexdigest(),
                      len(data), delivery.dedupe_scope, received, as_utc(delivery.as_of), dict(delivery.options))
    too_large = len(data) > settings.files.max_file_mb * 1024 * 1024
    with db.read() as conn:
        codes = set(warehouses(conn))
    with cyclic_gc_paused():
        kind, options, parsed = read_and_parse(settings, facts, None if too_large else data, codes)
        with db.read() as conn:
            outcome = decide(conn, settings, facts, kind, options, parsed, guard=True, create_items=False,
                             lock=False)
        report = build_report(facts, outcome, started)
        del parsed, outcome   # freed before collection resumes
    return report
