"""Receive a file: a durable spool copy named by its file id and a `received` row, before anything else.

Every transport (FTP, SFTP, folders, CLI, web) calls `receive_file`; only when it returns may the sender
be acknowledged (the FTP transfer completed, the SFTP original deleted). Processing happens later, in a
worker, from the spool copy.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from gateway.clock import now
from gateway.core.files import FileStatus
from gateway.db import schema
from gateway.db.engine import Database
from gateway.intake.spool import spool_dir, spool_file


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
    # min_rows, dry_run (bool), force (bool: past the duplicate rule), forced_from (the file id it re-runs)
    scope: str | None = None                   # a re-run keeps the dedupe scope of the file it re-runs

    @property
    def dedupe_scope(self) -> str:
        """Same bytes from the same warehouse (or account) again is a duplicate."""
        if self.scope:
            return self.scope
        if self.warehouse:
            return f"warehouse:{self.warehouse}"
        if self.account:
            return f"account:{self.account}"
        return f"{self.transport}:{self.source or ''}"


def receive_file(db: Database, data_dir: Path, delivery: Delivery, staged: Path, *, move: bool = False) -> str:
    """Spool `staged` durably under a new file id and record it as `received`; return the file id.

    The staged file is copied (and hashed on the way); with `move` the caller's staged file is removed
    once the row is committed (it must be a file the caller owns, such as an FTP upload already staged).
    """
    received_at = now()
    folder = spool_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    file_id, target, sha256, size = spool_file(staged, folder, received_at)
    try:
        with db.write() as conn:
            delivery = as_spelled(conn, delivery)
            conn.execute(schema.files.insert().values(
                file_id=file_id, name=delivery.name[:255], transport=delivery.transport, account=delivery.account,
                source=delivery.source, warehouse=delivery.warehouse,
                kind="stock" if delivery.warehouse else "quantity_update",
                mode=delivery.mode if delivery.warehouse else "absolute", sha256=sha256, size=size,
                dedupe_scope=delivery.dedupe_scope, received_at=received_at, as_of=delivery.as_of,
                status=FileStatus.RECEIVED.value, options=json.dumps(delivery.options, default=str),
                spool_path=str(target), report_dir=str(delivery.report_dir) if delivery.report_dir else None,
                attempts=0, forced_from=delivery.options.get("forced_from")))
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if move:
        Path(staged).unlink(missing_ok=True)
    return file_id


def as_spelled(conn: Connection, delivery: Delivery) -> Delivery:
    """`delivery` with its warehouse codes as the database spells them: codes are unique and found without
    regard to case, so `east` in a configuration or a command is warehouse `EAST` (its files, duplicate
    scope and allowed warehouses included). A code no warehouse has is left as it is (the pipeline names it)."""
    allowed = delivery.options.get("allowed_warehouses")
    if not delivery.warehouse and not allowed:
        return delivery
    w = schema.warehouses.c
    spelled = {code.casefold(): code for code in conn.execute(select(w.code)).scalars()}

    def fix(code: str) -> str:
        return spelled.get(code.casefold(), code) if isinstance(code, str) else code

    options = {**delivery.options, "allowed_warehouses": [fix(c) for c in allowed]} if allowed else delivery.options
    return dataclasses.replace(delivery, warehouse=fix(delivery.warehouse) if delivery.warehouse else None,
                               options=options)


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
