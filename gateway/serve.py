"""`stockgate serve`: one process running the processing worker, the FTP server and the other services
(SFTP pollers and watched folders, ...) until SIGTERM or SIGINT, then stopping them cleanly.

A file being processed when the stop comes is finished, or (past the stop timeout) left `processing`
for `recover` at the next start (or another worker once its heartbeat is stale): never lost, never
half-applied (it is applied in one transaction).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from datetime import timedelta
from typing import Protocol

from sqlalchemy import select

from gateway.db import schema
from gateway.db.engine import Database
from gateway.settings import Settings

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
RECOVER_EVERY_SECONDS = 30.0   # the worker takes back abandoned claims (stale heartbeat, dead process) this often
WORKER_STOP_SECONDS = 30.0
SERVICE_STOP_SECONDS = 10.0


class Service(Protocol):
    """Anything `serve` runs beside the worker (a `name` attribute is used in log lines when present)."""

    def start(self) -> None: ...

    def stop(self, timeout: float) -> None: ...


class ProcessingWorker:
    """A thread that processes received files one at a time with `process_next`: woken when a file
    arrives, polling every second for files other processes received, and every 30 s taking back the
    claims other workers abandoned (heartbeat older than `STALE_AFTER`, or a dead process of this host)."""

    name = "worker"

    def __init__(self, db: Database, settings: Settings, *, worker_id: str | None = None,
                 poll_seconds: float = POLL_SECONDS, recover_every: float = RECOVER_EVERY_SECONDS,
                 stale_after: timedelta | None = None):
        from gateway.pipeline import STALE_AFTER

        self.db, self.settings, self.poll_seconds = db, settings, poll_seconds
        self.recover_every, self.stale_after = recover_every, stale_after or STALE_AFTER
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:worker"
        self.on_processed: list = []            # callables(file_id), run after each processed file
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self, file_id: str | None = None) -> None:
        """A file was received: look for work now (thread-safe; the argument is only informative)."""
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = WORKER_STOP_SECONDS) -> None:
        """Finish the file in progress (up to `timeout`), then stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("worker still busy after %ss: the file in progress is left to be processed at the "
                            "next start", timeout)

    def _run(self) -> None:
        from gateway.pipeline import process_next

        failures, recovered_at = 0, time.monotonic()
        while not self._stop.is_set():
            self._wake.clear()
            if time.monotonic() - recovered_at >= self.recover_every:
                self._recover()
                recovered_at = time.monotonic()
            try:
                file_id = process_next(self.db, self.settings, worker_id=self.worker_id)
                failures = 0
            except Exception as exc:
                failures += 1
                log.error("processing failed (%s: %s); trying again", type(exc).__name__, exc,
                          exc_info=log.isEnabledFor(logging.DEBUG))
                self._wake.wait(min(60.0, self.poll_seconds * 2 ** min(failures, 6)))
                continue
            if file_id is None:
                self._wake.wait(self.poll_seconds)
                continue
            self._log_processed(file_id)
            for callback in self.on_processed:
                callback(file_id)

    def _recover(self) -> None:
        """Take back abandoned claims and complete cut-short reports (a failure is logged, tried again later)."""
        from gateway.pipeline import recover

        try:
            recover(self.db, self.settings, stale_after=self.stale_after)
        except Exception as exc:  # noqa: BLE001 - the next round tries again
            log.warning("recovery of abandoned files failed (%s: %s)", type(exc).__name__, exc)

    def _log_processed(self, file_id: str) -> None:
        f = schema.files.c
        try:
            with self.db.read() as conn:
                row = conn.execute(select(f.name, f.status, f.rows_total, f.rows_applied, f.rows_errors,
                                          f.rows_warnings, f.transport, f.warehouse)
                                   .where(f.file_id == file_id)).first()
        except Exception:
            row = None
        if row is None:
            log.info("file processed id=%s", file_id)
            return
        log.info("file processed id=%s name=%s transport=%s warehouse=%s status=%s rows=%s applied=%s errors=%s "
                 "warnings=%s", file_id, row.name, row.transport, row.warehouse or "-", row.status, row.rows_total,
                 row.rows_applied, row.rows_errors, row.rows_warnings)


def build_services(settings: Settings, db: Database, worker: ProcessingWorker) -> list[Service]:
    """The services `serve` runs beside the worker, built from the settings: add new ones here."""
    services: list[Service] = []
    if settings.ftp.enabled and settings.accounts:
        from gateway.transports.ftp.server import FtpServer

        ftp = FtpServer(settings, db, on_received=worker.wake)
        worker.on_processed.append(lambda _file_id: ftp.templates.wake())
        services.append(ftp)
    if settings.sources:
        from gateway.transports.sources.runner import SourceRunner

        services.append(SourceRunner(db, settings, on_received=worker.wake))
    if settings.channels:
        from gateway.channel_sync.scheduler import ChannelScheduler

        services.append(ChannelScheduler(db, settings))
    if settings.web.enabled:
        from gateway.web import WebServer

        services.append(WebServer(db, settings, on_received=worker.wake))
    return services


def serve(settings: Settings, db: Database, *, stop: threading.Event | None = None) -> int:
    """Recover, start the worker and every service, run until `stop` is set (or SIGTERM/SIGINT in the
    main thread), stop them in reverse order; return the exit status (0)."""
    from gateway.pipeline import STALE_AFTER, recover

    stop = stop or threading.Event()
    # only claims abandoned by a dead process of this host or stale for STALE_AFTER: with several `serve`
    # processes on one PostgreSQL database, the others' live claims stay theirs
    counts = recover(db, settings, stale_after=STALE_AFTER)
    log.info("serve starting pid=%s data_dir=%s recovered=%s", os.getpid(), settings.data_dir, counts)
    worker = ProcessingWorker(db, settings)
    services = build_services(settings, db, worker)
    previous = _install_signal_handlers(stop)
    started: list[Service] = []
    try:
        for service in services:
            service.start()
            started.append(service)
        worker.start()
        log.info("serve running: %s (SIGTERM or Ctrl-C stops)", ", ".join(map(_name, [*started, worker])))
        while not stop.wait(1.0):
            pass
        log.info("serve stopping")
    finally:
        for service in reversed(started):     # first stop accepting files ...
            try:
                service.stop(SERVICE_STOP_SECONDS)
            except Exception:
                log.exception("%s did not stop cleanly", _name(service))
        worker.stop(WORKER_STOP_SECONDS)      # ... then let the file in progress finish
        _restore_signal_handlers(previous)
    log.info("serve stopped")
    return 0


def _name(service) -> str:
    return getattr(service, "name", type(service).__name__)


def _install_signal_handlers(stop: threading.Event) -> dict:
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handle(signum, _frame):
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    return {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}


def _restore_signal_handlers(previous: dict) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
