"""Which worker processes which file: claims, the order of receipt per warehouse, release, giving back.

A claim moves a `received` file to `processing` in its own short transaction. PostgreSQL picks the
candidate with SELECT ... FOR UPDATE SKIP LOCKED; SQLite (which ignores FOR UPDATE) serialises writers
and the claim is a conditional UPDATE that must change exactly one row. Either way a file is claimed once.
While it is processed a heartbeat keeps the claim fresh; any exit before the commit gives the file back.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

from sqlalchemy import Connection, exists, func, or_, select, update

from gateway.clock import now
from gateway.core.files import FINAL, FileStatus, check_transition
from gateway.db import schema
from gateway.db.engine import Database
from gateway.errors import NotFoundError, StockGateError, UsageError
from gateway.db.leases import process_holder
from gateway.pipeline.heartbeat import HEARTBEAT_SECONDS, STALE_AFTER, Heartbeat
from gateway.pipeline.kinds import delivered_kind
from gateway.pipeline.process import (
    FileFacts, Outcome, Phase, archive_spool, build_report, load_facts, process_claimed, record_outcome, report_folder,
)
from gateway.pipeline.recovery import requeue_abandoned
from gateway.pipeline.report import Report, write_report_files
from gateway.pipeline.rerun import reruns_of
from gateway.settings import Settings
from parsers import make_issue

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3   # a file that crashed processing this often is rejected instead of retried forever
WAIT_SECONDS = 0.2   # how often `process_in_turn` looks again while other workers hold earlier files
_WAITING = (FileStatus.RECEIVED.value, FileStatus.PROCESSING.value)


def local_worker_id(tag: str) -> str:
    """A worker id for this process, `host:pid:random:tag`, so a claim it leaves behind when it dies is
    recognised as a dead process's (`gateway.db.leases.holder_is_dead_local`)."""
    return f"{process_holder()}:{tag}"


def _earlier_unfinished(later=schema.files, earlier=None) -> tuple:
    """Conditions for an `earlier` file received before the `later` one, not finished, that must go first:
    the same warehouse's, and every file when either is a Quantity Update (it may write any warehouse)."""
    f, e = later.c, (earlier if earlier is not None else schema.files.alias("earlier")).c
    return (e.seq < f.seq, e.status.in_(_WAITING),
            or_(e.warehouse == f.warehouse, e.warehouse.is_(None), f.warehouse.is_(None)))


def _claim(conn: Connection, file_id: str, worker_id: str, from_status: FileStatus, *, in_turn: bool = False
           ) -> bool:
    """Move one file to `processing` for `worker_id` (`in_turn`: only when no earlier file must go first)."""
    f = schema.files.c
    check_transition(from_status, FileStatus.PROCESSING)
    query = update(schema.files).where(f.file_id == file_id, f.status == from_status.value)
    if in_turn:
        query = query.where(~exists().where(*_earlier_unfinished()))
    result = conn.execute(query.values(status=FileStatus.PROCESSING.value, claimed_by=worker_id, claimed_at=now(),
                                       attempts=f.attempts + 1))
    return result.rowcount == 1


def claim_next(db: Database, *, worker_id: str, up_to_seq: int | None = None) -> str | None:
    """Claim the oldest `received` file that may go now (received no later than `up_to_seq` when given);
    its id, or None when none waits.

    A file waits while an earlier file of its warehouse is received or processing; a Quantity Update
    (which may write any warehouse) waits for every earlier file, and every later file waits for it.
    """
    f = schema.files.c
    query = (select(f.file_id).where(f.status == FileStatus.RECEIVED.value, ~exists().where(*_earlier_unfinished()))
             .order_by(f.seq))
    if up_to_seq is not None:
        query = query.where(f.seq <= up_to_seq)
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
        with Heartbeat(db, file_id, worker_id):
            report = process_claimed(db, settings, facts, worker_id=worker_id, guard=guard, on_phase=on_phase)
    except BaseException as exc:   # Ctrl-C and SystemExit too: the file must not stay claimed
        try:
            _give_back(db, settings, facts, worker_id, exc)
        except BaseException as failure:  # noqa: BLE001 - best effort: the original exception goes on
            log.warning("file %s could not be given back (%s: %s); recovery takes it back after %s",
                        file_id, type(failure).__name__, failure, STALE_AFTER)
        raise
    try:
        finish_after_commit(db, settings, facts, report)
    except Exception as exc:  # noqa: BLE001 - the file is committed: its report files come with recovery
        log.error("file %s (%s) is %s, but its report files or archive copy could not be written: %s: %s; the "
                  "report is in the database (stockgate report %s) and recovery writes them later", file_id,
                  facts.name, report.status, type(exc).__name__, exc, file_id)
    return report


def finish_after_commit(db: Database, settings: Settings, facts: FileFacts, report: Report) -> None:
    """Write the report files and, for a finished file, archive its spool copy."""
    write_report_files(report, report_folder(settings, facts))
    if FileStatus(report.status) in FINAL:
        archive_spool(db, settings, facts)


def _give_back(db: Database, settings: Settings, facts: FileFacts, worker_id: str, exc: BaseException) -> None:
    """After a failure: back to `received` for another try, or `rejected` after MAX_ATTEMPTS. An
    interruption (Ctrl-C, SystemExit) is no fault of the file: it goes back without using up an attempt."""
    f = schema.files.c
    report = None
    interrupted = not isinstance(exc, Exception)
    with db.write() as conn:
        row = conn.execute(select(f.status, f.claimed_by, f.attempts).where(f.file_id == facts.file_id)).first()
        if row is None or row.status != FileStatus.PROCESSING.value or row.claimed_by != worker_id:
            return
        verb = "interrupted" if interrupted else "failed"
        message = f"processing {verb}: {type(exc).__name__}: {exc}"[:1000]
        if interrupted or row.attempts < MAX_ATTEMPTS:
            check_transition(FileStatus.PROCESSING, FileStatus.RECEIVED)
            conn.execute(update(schema.files).where(f.file_id == facts.file_id)
                         .values(status=FileStatus.RECEIVED.value, claimed_by=None, status_message=message,
                                 attempts=f.attempts - 1 if interrupted else f.attempts))
            return
        kind = delivered_kind(facts.warehouse, facts.mode)
        issue = make_issue("UNREADABLE_FILE", reason=f"{message} ({row.attempts} attempts)")
        outcome = Outcome(FileStatus.REJECTED, kind, facts.as_of or facts.received_at, issues=[issue])
        report = build_report(facts, outcome, time.monotonic())
        record_outcome(conn, facts, outcome, report, worker_id=worker_id)
    if report is not None:
        finish_after_commit(db, settings, facts, report)


def process_file(db: Database, settings: Settings, file_id: str, *, worker_id: str | None = None,
                 on_phase: Phase | None = None) -> Report:
    """Process one file now: claim it if it is `received` and its turn (or go on if `worker_id` holds it);
    its report. A file whose warehouse has earlier files unfinished is refused (UsageError): files are
    applied in order of receipt (`process_in_turn` processes those first)."""
    worker_id = worker_id or local_worker_id("cli")
    facts = _facts(db, file_id)
    claimed = facts.claimed_by == worker_id
    if not claimed:
        with db.write() as conn:
            claimed = _claim(conn, file_id, worker_id, FileStatus.RECEIVED, in_turn=True)
    if not claimed:
        status, _report = _status(db, file_id)
        waiting_for = _first_earlier_unfinished(db, file_id) if status == FileStatus.RECEIVED.value else None
        if waiting_for is not None:
            raise UsageError(f"file {file_id} waits for file {waiting_for.file_id} ({waiting_for.name}, "
                             f"{waiting_for.status}), received before it: files are applied in order of receipt")
        raise UsageError(f"file {file_id} is {status}, not waiting to be processed")
    return _run(db, settings, file_id, worker_id, guard=True, on_phase=on_phase)


def process_in_turn(db: Database, settings: Settings, file_id: str, *, worker_id: str | None = None,
                    on_phase: Phase | None = None, stale_after: timedelta = STALE_AFTER) -> Report:
    """Process a received file in its turn and return its report (`stockgate ingest`).

    Files received before it that must go first (its warehouse's; all of them around a Quantity Update)
    are processed first by this worker, or, while other workers (`serve`) hold them, waited for; claims
    abandoned for `stale_after` are taken back. A file another worker finishes gives its stored report.
    Gives up (the file stays queued) when nothing moves for `stale_after`.
    """
    worker_id = worker_id or local_worker_id("cli")
    seq = _facts(db, file_id).seq
    seen, moved_at, requeued_at = None, time.monotonic(), 0.0
    while True:
        status, report = _status(db, file_id)
        if status not in _WAITING:
            return Report(json.loads(report))
        claimed = claim_next(db, worker_id=worker_id, up_to_seq=seq)
        if claimed is not None:
            report_of_claimed = _run(db, settings, claimed, worker_id, guard=True,
                                     on_phase=on_phase if claimed == file_id else None)
            if claimed == file_id:
                return report_of_claimed
            continue
        queue = _unfinished_up_to(db, seq)
        if queue != seen:
            seen, moved_at = queue, time.monotonic()
        elif time.monotonic() - moved_at > stale_after.total_seconds():
            raise StockGateError(f"file {file_id} is still {status}: other workers have held it or the files "
                                 f"before it for {stale_after} without finishing; it stays queued and is "
                                 f"processed in turn (see `stockgate history`)")
        if time.monotonic() - requeued_at > HEARTBEAT_SECONDS:
            requeue_abandoned(db, stale_after=stale_after)
            requeued_at = time.monotonic()
        time.sleep(WAIT_SECONDS)


def _status(db: Database, file_id: str) -> tuple[str, str | None]:
    f = schema.files.c
    with db.read() as conn:
        return tuple(conn.execute(select(f.status, f.report).where(f.file_id == file_id)).one())


def _first_earlier_unfinished(db: Database, file_id: str):
    """The earliest file that must be finished before `file_id` may go, or None."""
    later, earlier = schema.files.alias("later"), schema.files.alias("earlier")
    e = earlier.c
    query = (select(e.file_id, e.name, e.status)
             .where(later.c.file_id == file_id, *_earlier_unfinished(later, earlier)).order_by(e.seq).limit(1))
    with db.read() as conn:
        return conn.execute(query).first()


def _unfinished_up_to(db: Database, seq: int) -> tuple:
    """How many files up to `seq` are unfinished, and the first of them (progress, for waiting)."""
    f = schema.files.c
    with db.read() as conn:
        return tuple(conn.execute(select(func.count(), func.min(f.seq))
                                  .where(f.seq <= seq, f.status.in_(_WAITING))).one())


def process_next(db: Database, settings: Settings, *, worker_id: str) -> str | None:
    """Claim and process the oldest file that may go now; its id, or None when none waits."""
    file_id = claim_next(db, worker_id=worker_id)
    if file_id is not None:
        _run(db, settings, file_id, worker_id, guard=True, on_phase=None)
    return file_id


def release(db: Database, settings: Settings, file_id: str, *, worker_id: str | None = None,
            on_phase: Phase | None = None) -> Report:
    """Apply a `held` file despite the snapshot guard (it is still checked for staleness and duplicates)."""
    worker_id = worker_id or local_worker_id("release")
    _facts(db, file_id)
    reruns = reruns_of(db, file_id)
    if reruns:   # its bytes were processed again (another mode, say): applying the old reading would undo that
        latest = reruns[-1]
        raise UsageError(f"file {file_id} was processed again as file {latest['file_id']} ({latest['status']}): "
                         f"release that one if it is held")
    with db.write() as conn:
        claimed = _claim(conn, file_id, worker_id, FileStatus.HELD)
    if not claimed:
        raise UsageError(f"file {file_id} is {_status(db, file_id)[0]}: only a held file can be released")
    return _run(db, settings, file_id, worker_id, guard=False, on_phase=on_phase)

