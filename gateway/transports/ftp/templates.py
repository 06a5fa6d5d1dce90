"""Keep each FTP account's `templates/` holding a current Quantity Update template for its warehouses (their
columns, and only the SKUs stocked in them or created by the account's own files): written in the background
as the server starts (the FTP port answers before; a large catalog takes a while), then rewritten whenever
stock, items or warehouses changed (checked every few seconds, in its own thread, never on the FTP event loop).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from pathlib import Path

from sqlalchemy import func, select

from gateway.db import schema
from gateway.db.engine import Database
from gateway.settings import AccountSettings
from gateway.transports.ftp.access import TEMPLATES

log = logging.getLogger(__name__)

TEMPLATE_NAME = "quantity_update"


def _signature(db: Database) -> tuple:
    """A cheap fingerprint of what a template shows: the newest ledger entry, items and warehouses."""
    with db.read() as conn:
        return (conn.execute(select(func.max(schema.ledger.c.id))).scalar(),
                conn.execute(select(func.count()).select_from(schema.items)).scalar(),
                conn.execute(select(func.count()).select_from(schema.warehouses)).scalar())


def write_account_templates(db: Database, account: AccountSettings, home: Path, formats: tuple[str, ...],
                            scratch: Path) -> None:
    """Write `templates/quantity_update.<fmt>` for the account's warehouses and SKUs, atomically (a download
    in progress keeps reading the old file); `scratch` is a folder outside every home for the temporary."""
    from gateway.stock.template import write_template

    folder = home / TEMPLATES
    for fmt in formats:
        target = folder / f"{TEMPLATE_NAME}.{fmt}"
        scratch.mkdir(parents=True, exist_ok=True)
        # unique per writer: several `serve` processes sharing one data_dir refresh the same templates
        tmp = scratch / f".{account.username}.{TEMPLATE_NAME}.{fmt}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
        try:
            with db.read() as conn:
                write_template(conn, tmp, fmt=fmt, warehouses=list(account.warehouses), account=account.username)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)


class TemplateRefresher:
    """A thread that writes every account's templates as it starts, and again after each change."""

    def __init__(self, db: Database, accounts: tuple[AccountSettings, ...], homes: dict[str, Path], scratch: Path,
                 *, formats: tuple[str, ...] = ("csv", "xlsx"), interval_seconds: float = 3.0):
        self.db, self.accounts, self.homes, self.scratch = db, accounts, homes, scratch
        self.formats, self.interval_seconds = formats, interval_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._written_for: tuple | None = None
        self.written = threading.Event()     # set once every account's templates have been written

    def refresh_if_changed(self) -> bool:
        """Rewrite the templates when the database changed since the last write; True when written."""
        signature = _signature(self.db)
        if signature == self._written_for:
            return False
        for fmt in self.formats:        # every account's CSV first: it is quick, the XLSX of a big catalog is not
            for account in self.accounts:
                write_account_templates(self.db, account, self.homes[account.username], (fmt,), self.scratch)
        self._written_for = signature
        self.written.set()
        return True

    def wake(self) -> None:
        """Check for changes now rather than at the next interval."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh_if_changed()
            except Exception:
                log.exception("templates could not be refreshed (tried again in %ss)", self.interval_seconds)
            self._wake.wait(self.interval_seconds)
            self._wake.clear()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ftp-templates", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
