"""Re-running a stored file: `receive_again` puts a finished file's archived bytes through the pipeline
again as a new file linked to the first (`forced_from`), after a SKU was created or when its mode was wrong.

The new file keeps the first one's name, sender, warehouse, options, report folder and `as_of` (so the
stale rule judges it as the moment its figures describe); only the explicit re-run passes the duplicate
rule. A `delta` file whose movements are applied already is never re-run: they would count twice; nor is
one forced in again (`ingest --force`) while a copy of it still waits to be applied in its turn.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import or_, select

from gateway.clock import as_utc
from gateway.core.files import FileStatus
from gateway.db import schema
from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.intake import Delivery, receive_file
from gateway.pipeline.dry_run import sha256_of
from gateway.settings import Settings

MODES = ("partial", "full", "delta")
_UNFINISHED = (FileStatus.RECEIVED.value, FileStatus.PROCESSING.value)


def _movements_applied(conn, row) -> object:
    """A file with these bytes from this sender whose `delta` movements are applied (or being applied)."""
    f = schema.files.c
    return conn.execute(
        select(f.file_id, f.status, f.rows_applied)
        .where(f.dedupe_scope == row.dedupe_scope, f.sha256 == row.sha256, f.mode == "delta",
               or_(f.rows_applied > 0, f.status.in_(_UNFINISHED)))
        .order_by(f.seq).limit(1)).first()


def refuse_forcing_waiting_movements(db: Database, delivery: Delivery, path: Path) -> None:
    """`ingest --force` of a `delta` file: UsageError while a file with the same bytes from the same sender
    still waits to be processed (`received`, say given back after a failure, or `processing`): that file
    applies the movements in its turn, so a copy forced past the duplicate rule would apply them twice."""
    if delivery.mode != "delta" or not delivery.warehouse:
        return
    f = schema.files.c
    with db.read() as conn:
        waiting = conn.execute(
            select(f.file_id, f.name, f.status, f.status_message)
            .where(f.dedupe_scope == delivery.dedupe_scope, f.sha256 == sha256_of(path), f.mode == "delta",
                   f.status.in_(_UNFINISHED))
            .order_by(f.seq).limit(1)).first()
    if waiting is None:
        return
    why = f" ({' '.join(waiting.status_message.split())[:200]})" if waiting.status_message else ""
    raise UsageError(
        f"file {waiting.file_id} ({waiting.name}) holds these delta movements and is still {waiting.status}{why}: "
        f"it applies them in its turn, so --force would apply them twice; run the same command without --force "
        f"(file {waiting.file_id} goes first, and this copy is recorded as its duplicate)")


def receive_again(db: Database, settings: Settings, file_id: str, *, mode: str | None = None,
                  create_unknown_skus: bool = False) -> str:
    """Record a stored file as received again (a new file id, `forced_from` the first); its new id.

    `mode` (stock files) and `create_unknown_skus` change how it is read this time. UsageError when the
    file is not finished, the mode does not fit, or its movements would be applied twice; NotFoundError
    when it or its stored copy is gone.
    """
    f = schema.files.c
    with db.read() as conn:
        row = conn.execute(select(schema.files).where(f.file_id == file_id)).first()
        if row is None:
            raise NotFoundError(f"no file {file_id!r} (see `stockgate history`)")
        if row.status in _UNFINISHED:
            raise UsageError(f"file {file_id} is {row.status}: it can be processed again once it is finished")
        if mode is not None and mode not in MODES:
            raise UsageError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        if mode is not None and row.kind != "stock":
            raise UsageError(f"file {file_id} is a Quantity Update template: a mode applies to stock files only")
        new_mode = mode or row.mode
        applied = _movements_applied(conn, row) if row.kind == "stock" and new_mode == "delta" else None
    if applied is not None:
        done = (f"has applied them ({applied.rows_applied:,} rows)" if applied.rows_applied
                else f"is about to apply them ({applied.status})")
        raise UsageError(
            f"file {file_id} holds delta movements and file {applied.file_id} {done}: processing it again "
            f"would count them twice; send a file with only the rows still missing (or, if these movements "
            f"really happened twice, `stockgate ingest PATH --warehouse CODE --mode delta --force`)")
    stored = Path(row.spool_path)
    if not stored.is_file():
        raise NotFoundError(f"file {file_id}: its stored copy {stored} is gone, so it cannot be processed again; "
                            f"send the file again")
    options = json.loads(row.options or "{}")
    options = {k: v for k, v in options.items() if k not in ("force", "forced_from", "dry_run")}
    if create_unknown_skus:
        options["create_unknown_skus"] = True
    if mode is not None and "mode" in options:
        options["mode"] = mode
    options["forced_from"] = file_id
    delivery = Delivery(name=row.name, transport=row.transport, account=row.account, source=row.source,
                        warehouse=row.warehouse, mode=new_mode, as_of=as_utc(row.as_of),
                        report_dir=Path(row.report_dir) if row.report_dir else None, options=options,
                        scope=row.dedupe_scope)
    return receive_file(db, settings.data_dir, delivery, stored)


def reruns_of(db: Database, file_id: str) -> list[dict]:
    """The files that re-ran `file_id` (reprocess, `ingest --force`), oldest first: id and status."""
    f = schema.files.c
    with db.read() as conn:
        rows = conn.execute(select(f.file_id, f.status).where(f.forced_from == file_id).order_by(f.seq)).all()
    return [{"file_id": r.file_id, "status": r.status} for r in rows]
