"""A file handed over by a person (`stockgate ingest`, the Upload page, `POST /api/v1/uploads`): how it is
to be read, checked once with messages naming the bad value, then received like any drop or dry-run.

`delivery_for` turns the choices (warehouse in any case, mode, as-of, XLSX sheet, create unknown SKUs)
into a `Delivery`; `upload` receives web bytes (audited as `file.upload`), or with `dry_run` plans them
and records nothing.
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass
from typing import BinaryIO

from gateway.accounts import audit
from gateway.clock import parse_iso
from gateway.db.engine import Database
from gateway.errors import UsageError
from gateway.intake import Delivery, receive_bytes, receive_file
from gateway.intake.spool import spool_dir
from gateway.pipeline.dry_run import Preview, preview_changes
from gateway.settings import Settings
from gateway.stock import find_warehouse

MODES = ("partial", "full", "delta")
SHEET_MAX = 31   # Excel's own limit on a sheet name


class FileTooLargeError(UsageError):
    """An upload over `[files] max_file_mb` (the web answers 413)."""


def delivery_for(db: Database, *, name: str, transport: str, warehouse: str | None = None, mode: str | None = None,
                 as_of: str | None = None, sheet: str | None = None, create_unknown_skus: bool = False,
                 force: bool = False, mode_flag: str = "--mode", as_of_flag: str = "--as-of") -> Delivery:
    """A Delivery from a person's choices. `warehouse` is found in any case (`west` is WEST; NotFoundError
    naming the known ones); a `mode` without a warehouse, an unknown mode or a bad as-of time is a
    UsageError naming it (`mode_flag`/`as_of_flag`: what the message calls the option)."""
    warehouse, mode, sheet = (warehouse or "").strip() or None, (mode or "").strip() or None, (sheet or "").strip()
    if mode and mode not in MODES:
        raise UsageError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    if mode and not warehouse and mode != "partial":
        raise UsageError(f"{mode_flag} applies to stock files: choose their warehouse")
    if warehouse:
        with db.read() as conn:
            warehouse = find_warehouse(conn, warehouse).code
    if len(sheet) > SHEET_MAX:
        raise UsageError(f"sheet name {sheet[:40]!r}... is longer than a sheet name can be ({SHEET_MAX})")
    return Delivery(name=name, transport=transport, warehouse=warehouse,
                    mode=(mode or "partial") if warehouse else "absolute",
                    as_of=parse_iso(as_of, as_of_flag) if (as_of or "").strip() else None,
                    options={"create_unknown_skus": bool(create_unknown_skus), **({"sheet": sheet} if sheet else {}),
                             **({"force": True} if force else {})})


@dataclass(frozen=True)
class UploadResult:
    """A received upload's file id, or a dry run's preview (nothing received)."""

    file_id: str | None = None
    preview: Preview | None = None


def _size(data: bytes | BinaryIO) -> int:
    if isinstance(data, bytes):
        return len(data)
    data.seek(0, 2)
    size = data.tell()
    data.seek(0)
    return size


def _receive(db: Database, settings: Settings, delivery: Delivery, data: bytes | BinaryIO) -> str:
    """Receive bytes, or an open file copied next to the spool a block at a time (never whole in memory)
    and moved in once its row is committed."""
    if isinstance(data, bytes):
        return receive_bytes(db, settings.data_dir, delivery, data)
    folder = spool_dir(settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f".incoming-{secrets.token_hex(6)}"
    try:
        with open(staged, "wb") as out:
            shutil.copyfileobj(data, out, 1024 * 1024)
        return receive_file(db, settings.data_dir, delivery, staged, move=True)
    finally:
        staged.unlink(missing_ok=True)


def upload(db: Database, settings: Settings, *, name: str, data: bytes | BinaryIO, actor: str,
           warehouse: str | None = None, mode: str | None = None, as_of: str | None = None, sheet: str | None = None,
           create_unknown_skus: bool = False, dry_run: bool = False) -> UploadResult:
    """Receive uploaded bytes (or an open binary file) as transport `web`, to be processed in turn by the
    worker, or plan them (`dry_run`). UsageError for no file or bad choices, FileTooLargeError over the
    size limit."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        raise UsageError("choose a file to upload")
    size, limit = _size(data), settings.files.max_file_mb * 1024 * 1024
    if size > limit:
        raise FileTooLargeError(f"{name}: {size:,} bytes is over the limit of {settings.files.max_file_mb:,} MB")
    delivery = delivery_for(db, name=name, transport="web", warehouse=warehouse, mode=mode, as_of=as_of, sheet=sheet,
                            create_unknown_skus=create_unknown_skus, mode_flag="a mode", as_of_flag="as-of")
    if dry_run:
        content = data if isinstance(data, bytes) else data.read()
        return UploadResult(preview=preview_changes(db, settings, delivery, content))
    file_id = _receive(db, settings, delivery, data)
    audit.record(db, actor=actor, action="file.upload", target=file_id,
                 detail={"name": name, "warehouse": delivery.warehouse, "mode": delivery.mode, "size": size})
    return UploadResult(file_id=file_id)
