"""Receive a file: a durable spool copy named by its file id and a `received` row, before anything else.

Every transport (FTP, SFTP, folders, CLI, web) calls `receive_file`; only when it returns may the sender
be acknowledged (the FTP transfer completed, the SFTP original deleted). Processing happens later, in a
worker, from the spool copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from gateway.clock import now
from gateway.core.files import FileStatus
from gateway.db import schema
from gateway.db.engine import Database

_BLOCK = 1024 * 1024


@dataclass(frozen=True)
class Delivery:
    """Who sent a file and how it is to be read."""

    name: str                                  # the file's own name, as the sender gave it
    transport: str                             # ftp | sftp | folder | cli | web
    account: str | None = None                 # FTP account
    source: str | None = None                  # SFTP or folder source
    warehouse: str | None = None               # stock file of this warehouse; None: decided from the header
    mode: str = "partial"                      # stock files: partial | full | delta
    as_of: datetime | None = None              # upload completion or remote mtime; None: received_at
    report_dir: Path | None = None             # where <name>.<file_id>.report.json/.csv go
    options: dict[str, Any] = field(default_factory=dict)
    # options: allowed_warehouses (list), create_unknown_skus (bool), columns (dict), max_zero_fraction,
    # min_rows, dry_run (bool)

    @property
    def dedupe_scope(self) -> str:
        """Same bytes from the same warehouse (or account) again is a duplicate."""
        if self.warehouse:
            return f"warehouse:{self.warehouse}"
        if self.account:
            return f"account:{self.account}"
        return f"{self.transport}:{self.source or ''}"


def new_file_id(at: datetime | None = None) -> str:
    """A file id that sorts by time of receipt: 20261126T083012-3fa9c1d0 (the spool keeps it unique)."""
    return f"{(at or now()):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


def spool_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "spool"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_to_new_file(source: BinaryIO, target: Path) -> tuple[int, str]:
    """Copy an open file to the new file `target` (never an existing one), synced to disk; return
    (bytes copied, sha256 hex)."""
    digest, count = hashlib.sha256(), 0
    with open(target, "xb") as out:
        while block := source.read(_BLOCK):
            digest.update(block)
            count += len(block)
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    return count, digest.hexdigest()


def _spool(staged: Path, folder: Path, received_at: datetime) -> tuple[str, Path, str, int]:
    """Copy `staged` into the spool under a new file id; the id's path is created exclusively, so a
    colliding id is retried and never overwrites another file's spool copy."""
    tmp = folder / f".{secrets.token_hex(8)}.tmp"
    try:
        with open(staged, "rb") as src:
            size, sha256 = copy_to_new_file(src, tmp)
        for _ in range(10):
            file_id = new_file_id(received_at)
            target = folder / file_id
            try:
                os.link(tmp, target)        # fails if the name exists: no overwrite, unlike rename
            except FileExistsError:
                continue
            _fsync_dir(folder)
            return file_id, target, sha256, size
        raise RuntimeError("could not find a free file id in the spool")
    finally:
        tmp.unlink(missing_ok=True)


def receive_file(db: Database, data_dir: Path, delivery: Delivery, staged: Path, *, move: bool = False) -> str:
    """Spool `staged` durably under a new file id and record it as `received`; return the file id.

    The staged file is copied (and hashed on the way); with `move` the caller's staged file is removed
    once the row is committed (it must be a file the caller owns, such as an FTP upload already staged).
    """
    received_at = now()
    folder = spool_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    file_id, target, sha256, size = _spool(staged, folder, received_at)
    try:
        with db.write() as conn:
            conn.execute(schema.files.insert().values(
                file_id=file_id, name=delivery.name[:255], transport=delivery.transport, account=delivery.account,
                source=delivery.source, warehouse=delivery.warehouse,
                kind="stock" if delivery.warehouse else "quantity_update",
                mode=delivery.mode if delivery.warehouse else "absolute", sha256=sha256, size=size,
                dedupe_scope=delivery.dedupe_scope, received_at=received_at, as_of=delivery.as_of,
                status=FileStatus.RECEIVED.value, options=json.dumps(delivery.options, default=str),
                spool_path=str(target), report_dir=str(delivery.report_dir) if delivery.report_dir else None,
                attempts=0))
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if move:
        Path(staged).unlink(missing_ok=True)
    return file_id


def receive_bytes(db: Database, data_dir: Path, delivery: Delivery, data: bytes) -> str:
    """`receive_file` for content already in memory (web uploads, tests)."""
    folder = spool_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f".incoming-{secrets.token_hex(6)}"
    staged.write_bytes(data)
    try:
        return receive_file(db, data_dir, delivery, staged, move=True)
    finally:
        staged.unlink(missing_ok=True)


def copy_out(spool_path: Path, target: Path) -> None:
    """Copy a spooled file elsewhere (archive, quarantine) keeping its times."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(spool_path, target)
