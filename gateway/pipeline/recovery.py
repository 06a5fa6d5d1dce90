"""Recovery: claims abandoned by a dead or stuck worker go back to `received`, and finished files whose
report files or archiving were cut short by a crash are completed.

A claim is abandoned when its heartbeat (`claimed_at`) is older than `stale_after`, or when its holder is
a process of this host that no longer runs; a live claim is never taken, so several workers can share
one database and recover each other's files.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

from sqlalchemy import or_, select, update

from gateway.clock import as_utc, now
from gateway.core.files import FINAL, FileStatus, check_transition
from gateway.db import schema
from gateway.db.engine import Database
from gateway.db.leases import holder_is_dead_local
from gateway.pipeline.process import FileFacts, archive_path, archive_spool, report_folder
from gateway.pipeline.report import Report, report_paths, write_report_files
from gateway.settings import Settings

log = logging.getLogger(__name__)


def requeue_abandoned(db: Database, *, stale_after: timedelta | None = None) -> int:
    """Files left `processing` go back to `received`; how many. With `stale_after`, only abandoned claims:
    a heartbeat older than that, or a holder that is a dead process of this host. A live claim stays."""
    f = schema.files.c
    processing = f.status == FileStatus.PROCESSING.value
    with db.write() as conn:
        query = update(schema.files).where(processing)
        if stale_after is not None:
            holders = conn.execute(select(f.claimed_by).where(processing).distinct()).scalars().all()
            dead = [holder for holder in holders if holder and holder_is_dead_local(holder)]
            query = query.where(or_(f.claimed_at.is_(None), f.claimed_at < now() - stale_after,
                                    f.claimed_by.in_(dead)))
        check_transition(FileStatus.PROCESSING, FileStatus.RECEIVED)
        # PostgreSQL re-checks the WHERE on a row a heartbeat just refreshed: a live claim is never taken
        requeued = conn.execute(query.values(status=FileStatus.RECEIVED.value, claimed_by=None)).rowcount
    if requeued:
        log.warning("%s abandoned file claim(s) taken back for processing again", requeued)
    return requeued


def recover(db: Database, settings: Settings, *, stale_after: timedelta | None = None) -> dict[str, int]:
    """After a crash: files left `processing` go back to `received` (with `stale_after`, only abandoned
    claims: see `requeue_abandoned`), and finished files whose report files or archiving were cut short
    are completed (with `stale_after`, only those finished that long ago or by a dead local process).

    A file whose report or archive copy cannot be completed (an unwritable folder, a full disk) is logged
    with its id and counted in `failed`; the others are completed all the same, and it is tried again at
    the next recovery."""
    f = schema.files.c
    counts = {"requeued": requeue_abandoned(db, stale_after=stale_after), "reports_written": 0, "archived": 0,
              "failed": 0}
    with db.read() as conn:
        finished = conn.execute(select(schema.files).where(
            f.status.in_([s.value for s in FINAL] + [FileStatus.HELD.value]), f.report.is_not(None),
            f.spool_path.not_like(f"{Path(settings.data_dir) / 'archive'}%"))).all()
    if stale_after is not None:   # a live worker may be writing these reports right now
        cutoff = now() - stale_after
        finished = [row for row in finished if row.finished_at is None or as_utc(row.finished_at) < cutoff
                    or (row.claimed_by and holder_is_dead_local(row.claimed_by))]
    for row in finished:
        try:
            _complete(db, settings, row, counts)
        except Exception as exc:  # noqa: BLE001 - one file's trouble never stops start-up or the others
            counts["failed"] += 1
            log.error("file %s (%s, %s) could not be completed after a crash: %s: %s; its report stays in the "
                      "database (stockgate report %s) and it is tried again at the next recovery", row.file_id,
                      row.name, row.status, type(exc).__name__, exc, row.file_id)
    if any(counts.values()):
        log.info("recovered files: %s", counts)
    return counts


def _complete(db: Database, settings: Settings, row, counts: dict[str, int]) -> None:
    """Write a finished file's missing report files and archive its spool copy (finished files only)."""
    facts = FileFacts.from_row(row)
    report = Report(json.loads(row.report))
    folder = report_folder(settings, facts)
    json_path, _csv_path = report_paths(folder, facts.name, facts.file_id)
    if not json_path.exists():
        write_report_files(report, folder)
        counts["reports_written"] += 1
    if FileStatus(row.status) in FINAL and Path(facts.spool_path) != archive_path(settings, facts):
        archive_spool(db, settings, facts)
        counts["archived"] += 1
