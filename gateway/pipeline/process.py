"""Process one received file: parse it, plan its changes, apply them in one transaction, report.

The file's row moves `processing -> applied | applied_with_errors | rejected | duplicate | held` in the
same transaction as its stock changes; report files and the archive copy are written after the commit
(and rewritten by `recover` if a crash came in between).
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, case, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from gateway.clock import as_utc, iso, now
from gateway.core.files import FileStatus, check_transition
from gateway.db import schema
from gateway.db.engine import Database
from gateway.errors import RetryableError
from gateway.pipeline import file_table, staging
from gateway.pipeline.kinds import (
    FileKind,
    as_of_from_name,
    decide_kind,
    delivered_kind,
    header_says_stock_file,
    parse_options,
)
from gateway.pipeline.plan import FilePlan, PlanRules, column_names, is_snapshot, plan_file, repeats_of_failed_rows
from gateway.pipeline.plan import ABSENT_FROM_SNAPSHOT
from gateway.pipeline.staging import StagedRows
from gateway.pipeline.report import Report, empty_counts, make_report
from gateway.settings import Settings
from gateway.stock import apply_file_diff, apply_stock_changes, apply_zeroing, warehouses
from gateway.stock.titles import store_titles, valid_titles
from parsers import CODES, Issue, ParsedFile, ParseOptions, make_issue, parse_file, stream_file
from parsers.issues import LISTED_ISSUES
from parsers.columns import normalise_header
from parsers.csv_table import Opener

Phase = Callable[[str], None]   # told each phase's name; one with a `rows` method (RowProgress) is told rows too
RowProgress = Callable[[int, int | None], None]   # (rows read, rows in the file when known)
DUPLICATE_OF = (FileStatus.APPLIED.value, FileStatus.APPLIED_WITH_ERRORS.value, FileStatus.HELD.value)


@dataclass
class FileFacts:
    """What is known about a file before it is read: its `files` row, or a dry run's delivery."""

    file_id: str | None
    seq: int | None
    name: str
    transport: str
    warehouse: str | None
    mode: str
    sha256: str
    size: int
    dedupe_scope: str
    received_at: datetime
    as_of: datetime | None
    options: dict[str, Any] = field(default_factory=dict)
    claimed_by: str | None = None
    spool_path: str = ""
    report_dir: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> "FileFacts":
        return cls(row.file_id, row.seq, row.name, row.transport, row.warehouse, row.mode, row.sha256, row.size,
                   row.dedupe_scope, as_utc(row.received_at), as_utc(row.as_of), json.loads(row.options or "{}"),
                   row.claimed_by, row.spool_path, row.report_dir)


@dataclass
class Outcome:
    """The decision about one file: its status, what it changes and every issue."""

    status: FileStatus
    kind: FileKind
    as_of: datetime
    parsed: ParsedFile | None = None
    plan: FilePlan | None = None
    issues: list[Issue] = field(default_factory=list)
    forced_from: str | None = None   # the file whose duplicate rule this one bypassed on request
    unlisted: dict[str, int] = field(default_factory=dict)   # issues counted, not listed (a streamed file's)


class _CollectorPause:
    """Who pauses the cyclic garbage collector now (files being processed, by any thread)."""

    lock = threading.Lock()
    files = 0
    was_enabled = False   # before the first of them paused it


@contextlib.contextmanager
def cyclic_gc_paused():
    """Pause Python's cyclic garbage collector while a file is parsed, planned and applied.

    A million-row file keeps millions of list entries alive, and every full collection walks them all;
    the per-change objects of planning set off about ten of those (over a second at a million rows).
    Reference counting still frees everything meanwhile; only reference cycles wait, until the last
    file being processed is done (the worker takes one file at a time, so that is between files).
    """
    pause = _CollectorPause
    with pause.lock:
        if pause.files == 0:
            pause.was_enabled = gc.isenabled()
            gc.disable()
        pause.files += 1
    try:
        yield
    finally:
        with pause.lock:
            pause.files -= 1
            if pause.files == 0 and pause.was_enabled:
                gc.enable()


def load_facts(conn: Connection, file_id: str) -> FileFacts | None:
    """The facts of a recorded file, or None when there is no such file."""
    row = conn.execute(select(schema.files).where(schema.files.c.file_id == file_id)).first()
    return FileFacts.from_row(row) if row else None


def is_forced(facts: FileFacts) -> bool:
    """Whether the duplicate rule is bypassed for this file, on explicit request only: `ingest --force`
    or `stockgate reprocess` (and the web page's Reprocess)."""
    return bool(facts.options.get("force") or facts.options.get("forced_from"))


def earlier_copy(conn: Connection, facts: FileFacts) -> Any:
    """An earlier applied or held file with the same bytes from the same scope (a duplicate), or None."""
    f = schema.files.c
    query = (select(f.file_id, f.received_at)
             .where(f.dedupe_scope == facts.dedupe_scope, f.sha256 == facts.sha256, f.status.in_(DUPLICATE_OF))
             .order_by(f.seq).limit(1))
    if facts.file_id:
        query = query.where(f.file_id != facts.file_id)
    return conn.execute(query).first()


def movements_applied_since(conn: Connection, facts: FileFacts) -> Any:
    """`ingest --force` of a `delta` file: an earlier copy (same bytes, same scope) that was still waiting when
    this one was received and has applied since, or None. The force could not have meant that copy: applying
    this one too would count the movements twice (`rerun.refuse_forcing_waiting_movements` refuses the command
    up front; this closes the moment between that check and the receipt)."""
    if not facts.options.get("force") or facts.mode != "delta" or facts.seq is None:
        return None
    f = schema.files.c
    return conn.execute(
        select(f.file_id, f.received_at)
        .where(f.dedupe_scope == facts.dedupe_scope, f.sha256 == facts.sha256, f.seq < facts.seq,
               f.status.in_(DUPLICATE_OF), f.finished_at > facts.received_at)
        .order_by(f.seq).limit(1)).first()


def read_and_parse(settings: Settings, facts: FileFacts, data: bytes | Opener | None, warehouse_codes: set[str],
                   rows: RowProgress | None = None) -> tuple[FileKind, ParseOptions, ParsedFile]:
    """Decide the file's kind and parse it (`data`: its bytes or an Opener of them; None: the file was over
    the size limit, unread); `rows` is told (rows read, rows in the file) as the parser goes."""
    if data is None:
        kind = delivered_kind(facts.warehouse, facts.mode)
        options = parse_options(settings, kind, facts.options)
        parsed = ParsedFile(kind=kind.kind, format="csv")
        parsed.reject(make_issue("FILE_TOO_LARGE", size=facts.size, limit=options.max_bytes))
        return kind, options, parsed
    kind = decide_kind(data, facts.name, facts, facts.options, settings, warehouse_codes)
    options = parse_options(settings, kind, facts.options)
    parsed = parse_file(data, facts.name, dataclasses.replace(options, progress=rows) if rows else options)
    return kind, options, parsed


def effective_as_of(settings: Settings, facts: FileFacts, parsed: ParsedFile | None) -> datetime:
    """as_of: an `as_of` column, else a timestamp in the name, else the delivery's, else receipt time."""
    return as_of_and_source(settings, facts, parsed)[0]


def as_of_and_source(settings: Settings, facts: FileFacts, parsed: ParsedFile | None) -> tuple[datetime, str]:
    """The file's as_of and, in words, where it came from (for FUTURE_AS_OF)."""
    for moment, source in ((parsed.as_of if parsed else None, "its as_of column"),
                           (as_of_from_name(facts.name, settings.files.as_of_pattern), "the timestamp in its name"),
                           (facts.as_of, "the time given with it (--as-of, or the remote file's modification time)"), (facts.received_at, "its receipt")):
        if moment is not None:
            return as_utc(moment), source
    raise ValueError("a file always has a receipt time")


def future_as_of(settings: Settings, facts: FileFacts, parsed: ParsedFile | None) -> Issue | None:
    """FUTURE_AS_OF when the file's as_of is later than its receipt by more than the allowed skew."""
    as_of, source = as_of_and_source(settings, facts, parsed)
    skew = settings.files.future_as_of_skew_seconds
    if as_of <= as_utc(facts.received_at) + timedelta(seconds=skew):
        return None
    return make_issue("FUTURE_AS_OF", as_of=iso(as_of), source=source, received_at=iso(facts.received_at),
                      skew=_duration(skew))


def _duration(seconds: float) -> str:
    """`600` as "10 minutes", `90` as "90 seconds"."""
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute" + ("" if minutes == 1 else "s")
    return f"{seconds:g} second" + ("" if seconds == 1 else "s")


def decide(conn: Connection, settings: Settings, facts: FileFacts, kind: FileKind, options: ParseOptions,
           parsed: ParsedFile, *, guard: bool, create_items: bool, lock: bool,
           staged: StagedRows | None = None, unread: bool = False) -> Outcome:
    """The status of a parsed file and the changes it makes (reads only, but for a streamed file's staged
    tables: `staged`). `unread`: the file was not read, as a known duplicate; RetryableError unless it still
    is one."""
    as_of = effective_as_of(settings, facts, parsed)
    if lock:   # PostgreSQL: one file of a dedupe scope at a time passes the duplicate check to its commit
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:scope))"), {"scope": facts.dedupe_scope})
    copy = earlier_copy(conn, facts)
    forced_from = facts.options.get("forced_from") or (copy.file_id if copy is not None else None)
    late = movements_applied_since(conn, facts) if copy is not None and is_forced(facts) else None
    if late is not None:
        copy = late
    if copy is not None and (not is_forced(facts) or late is not None):
        return Outcome(FileStatus.DUPLICATE, kind, as_of, issues=[make_issue(
            "DUPLICATE_FILE", original_id=copy.file_id, received_at=iso(copy.received_at))])
    if unread:   # its earlier copy went away meanwhile: read it the next time
        raise RetryableError(f"file {facts.file_id}: its duplicate check changed; it will be processed again")
    if parsed.rejected:
        return _listed(Outcome(FileStatus.REJECTED, kind, as_of, parsed, issues=list(parsed.issues),
                               forced_from=forced_from if is_forced(facts) else None))
    future = future_as_of(settings, facts, parsed)
    if future is not None:   # never applied, so it never sets a mark that would make later files stale
        return _listed(Outcome(FileStatus.REJECTED, kind, as_of, parsed, issues=[future, *parsed.issues],
                               forced_from=forced_from if is_forced(facts) else None))
    o = facts.options
    allowed = o.get("allowed_warehouses")
    rules = PlanRules(mode=kind.mode, warehouse=kind.warehouse,
                      allowed=frozenset(allowed) if allowed is not None else None,
                      create_unknown_skus=bool(o.get("create_unknown_skus")),
                      max_zero_fraction=float(o.get("max_zero_fraction", 0.5)), min_rows=int(o.get("min_rows", 1)),
                      guard=guard, create_items=create_items,
                      future_skew=timedelta(seconds=settings.files.future_as_of_skew_seconds))
    known = warehouses(conn)
    plan = plan_file(conn, parsed, options, rules, known, as_of, file_id=facts.file_id, lock=lock, staged=staged)
    if kind.kind == "quantity_update" and any(i.code == "UNKNOWN_WAREHOUSE" for i in plan.rejected):
        plan.rejected = stock_file_for_several(settings, facts, options, parsed, list(known)) or plan.rejected
    held = [held_issue(plan)] if plan.held else []
    issues = [*sorted([*repeats_of_failed_rows(parsed, plan), *plan.issues, *plan.rejected, *held], key=lambda i: i.row or 0),
              *plan.zeroed_issues]   # the SKUs a full snapshot zeroed come last, by SKU
    if plan.rejected:
        status = FileStatus.REJECTED
    elif plan.held:
        status = FileStatus.HELD
    elif parsed.error_rows or plan.error_rows or plan.unlisted_error_rows:
        known_rows = plan.rows_applied + plan.rows_unchanged
        status = FileStatus.APPLIED_WITH_ERRORS if known_rows else FileStatus.REJECTED
    else:
        status = FileStatus.APPLIED
    return _listed(Outcome(status, kind, as_of, parsed, plan, issues, forced_from if is_forced(facts) else None))


def _listed(outcome: Outcome) -> Outcome:
    """A streamed file's report lists its first LISTED_ISSUES issues (by row) and counts the rest, by code, in
    one ISSUES_NOT_LISTED at the end (a file of a million bad rows never holds a million issues)."""
    parsed, plan = outcome.parsed, outcome.plan
    if parsed is None or not parsed.streamed:
        return outcome
    unlisted = dict(parsed.unlisted)
    for code, count in (plan.unlisted.items() if plan else ()):
        unlisted[code] = unlisted.get(code, 0) + count
    for issue in outcome.issues[LISTED_ISSUES:]:
        unlisted[issue.code] = unlisted.get(issue.code, 0) + 1
    if plan is not None and plan.zeroed_unlisted:   # a staged `full` snapshot's zeroed SKUs never read out
        unlisted["ZEROED_BY_SNAPSHOT"] = unlisted.get("ZEROED_BY_SNAPSHOT", 0) + plan.zeroed_unlisted
    if unlisted:
        by_code = ", ".join(f"{code} {count:,}" for code, count in sorted(unlisted.items(), key=lambda kv: -kv[1]))
        outcome.issues = [*outcome.issues[:LISTED_ISSUES], make_issue(
            "ISSUES_NOT_LISTED", count=sum(unlisted.values()), limit=LISTED_ISSUES, by_code=by_code)]
        outcome.unlisted = unlisted
    return outcome


def stock_file_for_several(settings: Settings, facts: FileFacts, options: ParseOptions, parsed: ParsedFile,
                           codes: list[str]) -> list[Issue]:
    """A one-warehouse stock file read as a Quantity Update (its sender writes several warehouses): the
    issue saying how to send it, or [] when the header does not look like a stock file."""
    aliases = options.quantity_aliases + tuple(filter(None, [(options.columns or {}).get("quantity")]))
    if not header_says_stock_file(parsed.header, aliases, set(codes)):
        return []
    wanted = {normalise_header(alias) for alias in aliases}
    column = next(name for name in parsed.header if normalise_header(name) in wanted)
    allowed = facts.options.get("allowed_warehouses")
    targets = list(allowed) if allowed is not None else codes
    example = targets[0] if targets else "EAST"
    how = f"name the quantity column after its warehouse (header SKU,{example})"
    if facts.dedupe_scope.startswith("account:"):
        login = facts.dedupe_scope.split(":", 1)[1]
        sender = f"login '{login}'"
        bound = [f"{a.warehouses[0]}: '{a.username}'" for a in settings.accounts
                 if len(a.warehouses) == 1 and a.warehouses[0] in targets]
        how += (f", or send the file through the login bound to its warehouse ({'; '.join(bound)})" if bound
                else ", or ask for a login bound to its one warehouse, which takes stock files")
    elif facts.transport == "web":
        sender, how = "an upload without a warehouse", how + ", or choose its warehouse on the upload form"
    else:
        sender, how = "`ingest` without --warehouse", how + f", or ingest it with --warehouse {example}"
    return [make_issue("STOCK_FILE_NEEDS_WAREHOUSE", column=column, sender=sender, warehouses=", ".join(targets),
                       how=how)]


def held_issue(plan: FilePlan) -> Issue:
    """The snapshot guard's issue with what releasing the file would do (a held file changes nothing, so
    its report counts stay 0 and the planned figures are told here)."""
    issue = plan.held
    planned = (f"if released: {plan.rows_applied:,} rows would apply ({plan.increased:,} increased, "
               f"{plan.decreased:,} decreased, {plan.zeroed:,} zeroed)")
    return dataclasses.replace(issue, message=f"{issue.message}; {planned}")


def build_report(facts: FileFacts, outcome: Outcome, started: float) -> Report:
    """The report document of a decided (and, when applied, applied) file. A held file changed nothing:
    its `applied`, `unchanged` and `changes` are 0 (its held issue says what releasing it would do)."""
    rows, changes = empty_counts()
    parsed, plan = outcome.parsed, outcome.plan
    if parsed is not None and outcome.status is not FileStatus.DUPLICATE:
        rows["total"] = parsed.total_rows
        rows["errors"] = parsed.error_rows + (len(plan.error_rows) + plan.unlisted_error_rows if plan else 0)
    if plan is not None and outcome.status in (FileStatus.APPLIED, FileStatus.APPLIED_WITH_ERRORS):
        rows["applied"], rows["unchanged"] = plan.rows_applied, plan.rows_unchanged
        changes.update(increased=plan.increased, decreased=plan.decreased, zeroed=plan.zeroed)
    rows["warnings"] = sum(1 for i in outcome.issues if i.severity == "warning") + sum(
        count for code, count in outcome.unlisted.items() if CODES[code].severity == "warning")
    return make_report(
        file_id=facts.file_id, name=facts.name, warehouse=outcome.kind.warehouse, kind=outcome.kind.kind,
        mode=outcome.kind.mode, transport=facts.transport, sha256=facts.sha256, received_at=iso(facts.received_at),
        as_of=iso(outcome.as_of), finished_at=iso(now()), status=outcome.status.value, rows=rows, changes=changes,
        issues=[i.as_dict() for i in outcome.issues], duration_ms=int((time.monotonic() - started) * 1000),
        forced_from=outcome.forced_from or facts.options.get("forced_from"))


def read_spool(settings: Settings, facts: FileFacts) -> Opener | None:
    """An Opener of the spooled bytes (the parsers read them a block at a time), or None when the file is over
    the size limit (never read)."""
    path = Path(facts.spool_path)
    if path.stat().st_size > settings.files.max_file_mb * 1024 * 1024:
        return None
    return lambda: open(path, "rb")


def process_claimed(db: Database, settings: Settings, facts: FileFacts, *, worker_id: str, guard: bool = True,
                    on_phase: Phase | None = None) -> Report:
    """Process a file this worker has claimed (status `processing`); commit its outcome; return the report."""
    phase = on_phase or (lambda _name: None)
    started = time.monotonic()
    phase("reading")
    with db.read() as conn:
        codes = set(warehouses(conn))
        copy = None if is_forced(facts) else earlier_copy(conn, facts)
    with cyclic_gc_paused():   # the file's rows and changes are freed inside, before collection resumes
        report = _parse_and_apply(db, settings, facts, codes, copy, worker_id=worker_id, guard=guard, phase=phase,
                                  started=started)
    phase("reporting")
    return report


def _parse_and_apply(db: Database, settings: Settings, facts: FileFacts, codes: set[str], copy: Any, *,
                     worker_id: str, guard: bool, phase: Phase, started: float) -> Report:
    """Parse the file (unless `copy` says it is a known duplicate), decide, apply, record; the report."""
    source, progress = None, getattr(phase, "rows", None)
    if copy is not None:   # skip parsing bytes that are a known duplicate; decide() confirms under the lock
        kind = delivered_kind(facts.warehouse, facts.mode)
        parsed, options = ParsedFile(kind=kind.kind, format=""), parse_options(settings, kind, facts.options)
    else:
        phase("validating")
        source = read_spool(settings, facts)
        if source is not None:
            kind = decide_kind(source, facts.name, facts, facts.options, settings, codes)
            options = parse_options(settings, kind, facts.options)
        if source is None:
            kind, options, parsed = read_and_parse(settings, facts, source, codes, progress)
            source = None
    if source is None:
        phase("applying")
    with db.write() as conn:
        staged = None
        if source is not None:   # parsed a chunk at a time, straight into the staged tables
            parsed, chunks = stream_file(source, facts.name, dataclasses.replace(options, progress=progress),
                                         chunk_rows=staging.STAGE_CHUNK_ROWS)
            sku_column, quantity_column = column_names(parsed, options)
            staged = staging.stage_stream(conn, parsed, chunks, sku_column, delta=kind.mode == "delta",
                                          quantity_column=quantity_column)
            phase("applying")
        outcome = decide(conn, settings, facts, kind, options, parsed, guard=guard, create_items=True,
                         lock=db.is_postgres, staged=staged, unread=copy is not None)
        applied = outcome.status in (FileStatus.APPLIED, FileStatus.APPLIED_WITH_ERRORS)
        planned = outcome.plan is not None and outcome.plan.staged
        if applied and planned:   # the differing rows wait in the database, written a chunk at a time
            apply_file_diff(conn, file_table.DIFF, outcome.plan.warehouse_ids, file_id=facts.file_id)
        if applied and planned and outcome.plan.zero_staged:   # a `full` snapshot's absent SKUs, a chunk at a time
            apply_zeroing(conn, file_table.ZERO, outcome.plan.warehouse_ids[0], file_id=facts.file_id,
                          reference=ABSENT_FROM_SNAPSHOT)
        if applied and outcome.plan.changes:
            apply_stock_changes(conn, outcome.plan.changes, cause="file", file_id=facts.file_id,
                                current=outcome.plan.current)
        if applied and planned and staged.titles:   # the staged rows carry their titles (failed rows are gone)
            file_table.store_titles(conn, replace=outcome.kind.kind == "quantity_update")
        elif applied and parsed.titles:
            store_titles(conn, valid_titles(parsed.titles, parsed.skus, parsed.row_numbers, outcome.plan.error_rows),
                         replace=outcome.kind.kind == "quantity_update")
        if staged is not None:
            file_table.drop_staged(conn)
        report = build_report(facts, outcome, started)
        record_outcome(conn, facts, outcome, report, worker_id=worker_id)
    return report


def record_outcome(conn: Connection, facts: FileFacts, outcome: Outcome, report: Report, *, worker_id: str) -> None:
    """Write the file's final state, report, issues and (applied snapshots) its warehouses' as_of marks."""
    f = schema.files.c
    check_transition(FileStatus.PROCESSING, outcome.status)
    rows = report.document["rows"]
    errors = [i for i in outcome.issues if i.severity == "error"]
    result = conn.execute(
        update(schema.files).where(f.file_id == facts.file_id, f.status == FileStatus.PROCESSING.value,
                                   f.claimed_by == worker_id)
        .values(status=outcome.status.value, finished_at=now(), as_of=outcome.as_of, kind=outcome.kind.kind,
                mode=outcome.kind.mode, warehouse=outcome.kind.warehouse,
                status_message=errors[0].message if errors else None, report=json.dumps(report.document),
                rows_total=rows["total"], rows_applied=rows["applied"], rows_errors=rows["errors"],
                rows_warnings=rows["warnings"], forced_from=report.document["forced_from"]))
    if result.rowcount != 1:   # recover() gave the file to another worker: roll everything back
        raise RetryableError(f"file {facts.file_id} is no longer claimed by {worker_id}")
    conn.execute(delete(schema.file_issues).where(schema.file_issues.c.file_seq == facts.seq))
    if outcome.issues:
        conn.execute(schema.file_issues.insert(), [
            {"file_seq": facts.seq, "row": i.row, "sku": i.sku, "column": i.column, "value": i.value, "severity": i.severity,
             "code": i.code, "message": i.message} for i in outcome.issues])
    if outcome.status in (FileStatus.APPLIED, FileStatus.APPLIED_WITH_ERRORS) and outcome.plan \
            and is_snapshot(outcome.kind.mode):
        mark_warehouses(conn, outcome.plan.warehouse_ids, outcome.as_of, facts.seq,
                        replace=outcome.plan.untrusted_marks)


def mark_warehouses(conn: Connection, warehouse_ids: list[int], as_of: datetime, file_seq: int, *,
                    replace: Iterable[int] = ()) -> None:
    """Record that a file applied to these warehouses: their `last_as_of` becomes the later of the stored
    one and `as_of` (never moving backwards), with the seq of the file that set it. The marks of
    `replace` (set by a file from the future, before FUTURE_AS_OF existed: `plan.untrusted_marks`) are
    overwritten, so the warehouse is never stuck behind them."""
    if not warehouse_ids:
        return
    table = schema.warehouse_file_marks
    replace = [wh for wh in replace if wh in warehouse_ids]
    if replace:
        conn.execute(delete(table).where(table.c.warehouse_id.in_(replace)))
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
    newer = insert.excluded.last_as_of >= table.c.last_as_of
    conn.execute(insert.on_conflict_do_update(index_elements=["warehouse_id"], set_={
        "last_as_of": case((newer, insert.excluded.last_as_of), else_=table.c.last_as_of),
        "last_file_seq": case((newer, insert.excluded.last_file_seq), else_=table.c.last_file_seq)}),
        [{"warehouse_id": wh, "last_as_of": as_utc(as_of), "last_file_seq": file_seq} for wh in warehouse_ids])


def report_folder(settings: Settings, facts: FileFacts) -> Path:
    """The file's own report folder (set by its transport), else `<data_dir>/reports`."""
    return Path(facts.report_dir) if facts.report_dir else Path(settings.data_dir) / "reports"


def archive_path(settings: Settings, facts: FileFacts) -> Path:
    """`<data_dir>/archive/YYYY/MM/<file_id>`: where a finished file's spool copy goes."""
    received = facts.received_at
    return Path(settings.data_dir) / "archive" / f"{received:%Y}" / f"{received:%m}" / str(facts.file_id)


def archive_spool(db: Database, settings: Settings, facts: FileFacts) -> None:
    """Move a finished file's spool copy into the archive and record where it went."""
    source, target = Path(facts.spool_path), archive_path(settings, facts)
    if source.exists() and source != target:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
    if source != target:
        with db.write() as conn:
            conn.execute(update(schema.files).where(schema.files.c.file_id == facts.file_id)
                         .values(spool_path=str(target)))
