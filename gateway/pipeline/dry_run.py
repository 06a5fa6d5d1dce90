"""Dry runs: what processing a file would do, each SKU's level before and after, with nothing written.

`preview` reads a delivery's file (`stockgate ingest --dry-run`) or bytes (the Upload page's dry run);
`preview_stored` reads a stored file that is not applied yet: one still waiting (`received`), or one
`held` by the snapshot guard, which it plans as releasing it would (the guard off). Both plan inside a
read transaction with provisional ids for SKUs that would be created, so nothing is created or recorded.
A file of absolute figures is staged a chunk at a time into TEMP tables, as processing stages it, so a
dry run reports what processing would (the same issues listed and counted) in memory that does not grow
with the file; a `delta` file too (its repeats added up in the database, its clamps found there).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from gateway.clock import as_utc, now
from gateway.core.files import FileStatus
from gateway.db import schema
from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.intake import Delivery
from gateway.pipeline import file_table, staging
from gateway.pipeline.kinds import decide_kind, parse_options
from gateway.pipeline.plan import column_names
from gateway.pipeline.process import FileFacts, Outcome, build_report, cyclic_gc_paused, decide, read_and_parse
from gateway.pipeline.report import Report
from gateway.settings import Settings
from gateway.stock import warehouses
from parsers import stream_file

CHANGES_SHOWN = 1000   # SKU changes a preview lists by default; `total_changes` counts them all
PREVIEWABLE = (FileStatus.RECEIVED.value, FileStatus.HELD.value)


@dataclass(frozen=True)
class SkuChange:
    """One level the file would move: `before` is None where the SKU has no level there yet (or is new)."""

    sku: str
    warehouse: str
    before: int | None
    after: int
    row: int | None          # the file's row; None for a SKU a `full` snapshot zeroes (absent from it)

    def as_dict(self) -> dict:
        return {"sku": self.sku, "warehouse": self.warehouse, "before": self.before, "after": self.after,
                "row": self.row}


@dataclass(frozen=True)
class Preview:
    """A dry run's report (status as processing would decide it) and the levels it would move."""

    report: Report
    changes: list[SkuChange] = field(default_factory=list)   # file order, then the zeroed SKUs; at most `limit`
    total_changes: int = 0
    released: bool = False   # planned as releasing a held file would (the snapshot guard off)

    def as_dict(self) -> dict:
        """As `stockgate ingest --dry-run --json --changes` and `/api/v1/files/{id}/preview` show it."""
        return {"report": self.report.document, "changes": [c.as_dict() for c in self.changes],
                "total_changes": self.total_changes, "shown_changes": len(self.changes), "as_released": self.released}


def _staged_changes(conn, outcome: Outcome, limit: int) -> tuple[list[SkuChange], int]:
    """The levels a staged plan moves: the moving cells come from `file_table.DIFF` (warehouse by warehouse, in
    file order, the order the real run writes its ledger), then a `full` snapshot's zeroed levels by item, at
    most `limit` in all; the total is the plan's counts."""
    plan = outcome.plan
    applies = outcome.status in (FileStatus.APPLIED, FileStatus.APPLIED_WITH_ERRORS, FileStatus.HELD)
    if plan is None or not applies:
        return [], 0
    codes = {wh.id: code for code, wh in warehouses(conn).items()}
    result: list[SkuChange] = []
    for k, warehouse_id in enumerate(plan.warehouse_ids):
        if len(result) >= limit:
            break
        result += [SkuChange(sku, codes[warehouse_id], before, after, row)
                   for row, sku, before, after in file_table.moving_cells(conn, k, limit - len(result))]
    if plan.zero_staged and len(result) < limit:
        code = codes[plan.warehouse_ids[0]]
        result += [SkuChange(sku, code, on_hand, 0, None)
                   for sku, on_hand in file_table.zeroed_by_item(conn, limit - len(result))]
    return result, plan.increased + plan.decreased + plan.zeroed


def _plan(db: Database, settings: Settings, facts: FileFacts, data: bytes | Path, *, guard: bool,
          limit: int) -> Preview:
    """Plan `data` (bytes, or a file read a block at a time) in a read transaction. The file is staged a chunk
    at a time into TEMP tables as processing stages it (`staging.stage_stream`; a `delta` file's repeats
    added up there), planned there and its changes read back from them, so its memory does not grow with its
    rows; one over the size limit is never read (`read_and_parse` rejects it)."""
    started = time.monotonic()
    size = data.stat().st_size if isinstance(data, Path) else len(data)
    too_large = size > settings.files.max_file_mb * 1024 * 1024
    source = None if too_large else (data if isinstance(data, bytes) else lambda: open(data, "rb"))
    with db.read() as conn:
        codes = set(warehouses(conn))
    with cyclic_gc_paused():
        kind = decide_kind(source, facts.name, facts, facts.options, settings, codes) if source else None
        streamed = kind is not None
        if not streamed:
            kind, options, parsed = read_and_parse(settings, facts, source, codes)
        else:
            options = parse_options(settings, kind, facts.options)
        with db.read() as conn:
            staged = None
            try:
                if streamed:   # parsed a chunk at a time, straight into the staged tables, as processing does
                    parsed, chunks = stream_file(source, facts.name, options, chunk_rows=staging.STAGE_CHUNK_ROWS)
                    sku_column, quantity_column = column_names(parsed, options)
                    staged = staging.stage_stream(conn, parsed, chunks, sku_column, delta=kind.mode == "delta",
                                                  quantity_column=quantity_column)
                outcome = decide(conn, settings, facts, kind, options, parsed, guard=guard, create_items=False,
                                 lock=False, staged=staged)
                changes, total = _staged_changes(conn, outcome, limit)
            finally:
                if staged is not None:
                    file_table.drop_staged(conn)
        report = build_report(facts, outcome, started)
        del parsed, outcome   # freed before collection resumes
    return Preview(report, changes, total, released=not guard)


def sha256_of(data: bytes | Path) -> str:
    """The sha256 of bytes, or of a file read a block at a time (as receiving it records it)."""
    if isinstance(data, bytes):
        return hashlib.sha256(data).hexdigest()
    digest = hashlib.sha256()
    with open(data, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def preview_changes(db: Database, settings: Settings, delivery: Delivery, data: bytes | Path, *,
                    limit: int = CHANGES_SHOWN) -> Preview:
    """What processing `data` (its bytes, or a file, read a block at a time) would do (a dry run): validated
    and planned, nothing written or recorded."""
    size = data.stat().st_size if isinstance(data, Path) else len(data)
    facts = FileFacts(None, None, delivery.name, delivery.transport, delivery.warehouse,
                      delivery.mode if delivery.warehouse else "absolute", sha256_of(data),
                      size, delivery.dedupe_scope, now(), as_utc(delivery.as_of), dict(delivery.options))
    return _plan(db, settings, facts, data, guard=True, limit=limit)


def preview(db: Database, settings: Settings, delivery: Delivery, data: bytes | Path) -> Report:
    """The report a dry run of `data` gives (`stockgate ingest --dry-run`)."""
    return preview_changes(db, settings, delivery, data, limit=0).report


def preview_stored(db: Database, settings: Settings, file_id: str, *, limit: int = CHANGES_SHOWN) -> Preview:
    """What processing a stored file would do now: a `received` one as its turn would, a `held` one as
    releasing it would. NotFoundError for an unknown file or a stored copy that is gone; UsageError for a
    file that is processing or finished (its report says what it did)."""
    with db.read() as conn:
        row = conn.execute(schema.files.select().where(schema.files.c.file_id == file_id)).first()
    if row is None:
        raise NotFoundError(f"no file {file_id!r} (see `stockgate history`)")
    if row.status not in PREVIEWABLE:
        raise UsageError(f"file {file_id} is {row.status}: a preview shows what a received or held file would do; "
                         f"its report says what it did")
    data = Path(row.spool_path)
    try:
        with open(data, "rb"):   # read a block at a time by the plan
            pass
    except OSError:
        raise NotFoundError(f"file {file_id}: its stored copy {row.spool_path} cannot be read") from None
    return _plan(db, settings, FileFacts.from_row(row), data, guard=row.status != FileStatus.HELD.value,
                 limit=limit)
