"""The embedded FTP/FTPS server (pyftpdlib, extended by subclasses made for each server instance).

A completed upload is moved to staging and queued; an intake thread spools it with `receive_file`, and
only then does the client get its `226` (the reply pyftpdlib would send first is held back), so a
transfer completes only once the file is durable. The event loop never parses, touches the database or
checks a password (`logins`); who gets a session is decided in `sessions`.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pyftpdlib.handlers import DTPHandler, FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from gateway.db.engine import Database
from gateway.errors import ConfigError
from gateway.intake import Delivery, receive_file, spool_dir
from gateway.settings import AccountSettings, FtpSettings, Settings
from gateway.transports.ftp.access import REPORTS, AccountAuthorizer, JailedFilesystem, make_homes
from gateway.transports.ftp.data import GatewayDTPMixin
from gateway.transports.ftp.guard import LoginGuard
from gateway.transports.ftp.handler import GatewayHandlerMixin
from gateway.transports.ftp.inbox import UploadRecords, quarantine, quarantine_partial_uploads
from gateway.transports.ftp.logins import PasswordChecks
from gateway.transports.ftp.sessions import AdmissionServerMixin
from gateway.transports.ftp.templates import TemplateRefresher

log = logging.getLogger("gateway.transports.ftp")

LOOP_TICK_SECONDS = 0.05
NOT_RECEIVED_REPLY = "451 The file could not be stored (nothing was received); please send it again."


@dataclass(frozen=True)
class StagedUpload:
    """A complete upload waiting in staging for `receive_file`; `handler` is owed the final reply."""

    account: str
    name: str
    staged: Path
    completed_at: datetime
    handler: object | None
    reply: str                  # e.g. "226 Transfer complete" (the file id is appended)


def passive_port_range(text: str, key: str = "ftp.passive_ports") -> list[int] | None:
    """`"30000-30049"` as a list of ports; an empty text means any free port."""
    if not text.strip():
        return None
    try:
        low, high = (int(part) for part in text.split("-", 1))
    except ValueError:
        raise ConfigError(f"{key}: {text!r} must look like \"30000-30049\"") from None
    if not 1024 <= low <= high <= 65535:
        raise ConfigError(f"{key}: {text!r} must be a range within 1024-65535")
    return list(range(low, high + 1))


def delivery_for(account: AccountSettings, name: str, report_dir: Path, completed_at: datetime) -> Delivery:
    """How a file uploaded by `account` is to be read: a single-warehouse account's files belong to that
    warehouse (a Quantity Update template is still recognised by its header); otherwise the file must be
    a Quantity Update template limited to the account's warehouses."""
    single = len(account.warehouses) == 1
    return Delivery(name=name, transport="ftp", account=account.username,
                    warehouse=account.warehouses[0] if single else None, mode=account.mode, as_of=completed_at,
                    report_dir=report_dir,
                    options={"allowed_warehouses": list(account.warehouses),
                             "create_unknown_skus": account.create_unknown_skus, "columns": dict(account.columns),
                             "max_zero_fraction": account.max_zero_fraction, "min_rows": account.min_rows,
                             "sheet": account.sheet, "auto_kind": single})


class FtpServer:
    """The FTP service of `stockgate serve`: `start()` binds and runs the event loop, the intake thread
    and the template refresher; `stop(timeout)` stops accepting, lets staged uploads be received and
    answered, then disconnects everyone."""

    name = "ftp"

    def __init__(self, settings: Settings, db: Database, *, on_received=None, auth_failed_delay: float = 3.0,
                 template_interval_seconds: float = 3.0):
        self.settings, self.db, self.on_received = settings, db, on_received
        self.ftp: FtpSettings = settings.ftp
        self.data_dir = Path(settings.data_dir)
        self.auth_failed_delay = auth_failed_delay
        if self.ftp.require_tls and not self.ftp.tls_certfile:
            raise ConfigError(f"{settings.key('ftp.require_tls')}: needs ftp.tls_certfile (and tls_keyfile unless the "
                              "key is in it)")
        self.passive_ports = passive_port_range(self.ftp.passive_ports, settings.key("ftp.passive_ports"))
        self.homes = make_homes(settings)
        self.records = UploadRecords(self.data_dir)
        self.guard = LoginGuard(self.ftp.max_failed_logins, self.ftp.lockout_minutes * 60)
        self.authorizer = AccountAuthorizer(settings.accounts, self.homes)
        self.passwords = PasswordChecks(self.authorizer, self.guard)
        self.uploads_in_progress: set[str] = set()
        self.templates = TemplateRefresher(db, settings.accounts, self.homes, self.data_dir / "ftp-state",
                                           interval_seconds=template_interval_seconds)
        self._intake: queue.Queue[StagedUpload | None] = queue.Queue()
        self._loop_calls: queue.SimpleQueue = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._server: FTPServer | None = None
        self._threads: list[threading.Thread] = []

    # --- building the pyftpdlib classes for this server only

    def _handler_class(self) -> type:
        ftp = self.ftp
        tls = bool(ftp.tls_certfile)
        if tls:
            from OpenSSL import SSL
            from pyftpdlib.handlers import TLS_DTPHandler as dtp_base
            from pyftpdlib.handlers import TLS_FTPHandler as base
        else:
            base, dtp_base = FTPHandler, DTPHandler
        dtp = type("StockGateDTPHandler", (GatewayDTPMixin, dtp_base),
                   {"timeout": ftp.idle_timeout_seconds, "max_upload_bytes": ftp.max_upload_mb * 1024 * 1024})
        attrs = {"gateway": self, "authorizer": self.authorizer, "abstracted_fs": JailedFilesystem,
                 "dtp_handler": dtp, "timeout": ftp.idle_timeout_seconds, "banner": "StockGate FTP ready.",
                 "passive_ports": self.passive_ports, "masquerade_address": ftp.masquerade_address or None,
                 "permit_foreign_addresses": False, "permit_privileged_ports": False,
                 "auth_failed_timeout": self.auth_failed_delay, "max_login_attempts": 3}
        if tls:
            attrs.update({"certfile": ftp.tls_certfile, "keyfile": ftp.tls_keyfile or None, "ssl_context": None,
                          "tls_control_required": ftp.require_tls, "tls_data_required": ftp.require_tls,
                          "ssl_options": (SSL.OP_NO_SSLv2 | SSL.OP_NO_SSLv3 | SSL.OP_NO_TLSv1 | SSL.OP_NO_TLSv1_1
                                          | SSL.OP_NO_COMPRESSION)})
        return type("StockGateFTPHandler", (GatewayHandlerMixin, base), attrs)

    def _server_class(self) -> type:
        return type("StockGateFTPServer", (AdmissionServerMixin, FTPServer),
                    {"max_sessions": self.ftp.max_connections, "max_cons_per_ip": self.ftp.max_connections_per_ip})

    # --- life cycle

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) the server listens on (the real port when configured as 0)."""
        return self._server.address

    def start(self) -> None:
        """Quarantine partial uploads left by a crash, bind and start serving; the templates are written by
        the refresher's thread, so the port answers at once whatever the size of the catalog."""
        quarantine_partial_uploads(self.data_dir, self.homes, self.records)
        try:
            self._server = self._server_class()((self.ftp.host, self.ftp.port), self._handler_class(),
                                                ioloop=IOLoop())
        except OSError as exc:
            raise ConfigError(f"{self.settings.key('ftp.port')}: cannot listen on {self.ftp.host}:{self.ftp.port}: "
                              f"{exc.strerror}") from exc
        except (ValueError, FileNotFoundError) as exc:
            raise ConfigError(f"{self.settings.key('ftp.tls_certfile')}: {exc}") from exc
        except Exception as exc:  # pyOpenSSL rejecting the certificate or key
            raise ConfigError(f"{self.settings.key('ftp.tls_certfile')} / tls_keyfile: cannot be used: {exc}") from exc
        for target, name in ((self._serve, "ftp-loop"), (self._receive_staged, "ftp-intake")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        self.templates.start()
        host, port = self.address
        log.info("ftp server listening on %s:%s%s", host, port,
                 " (FTPS required)" if self.ftp.require_tls else " (FTPS available)" if self.ftp.tls_certfile else "")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, answer uploads already staged, then close every connection."""
        if self._server is None:
            return
        deadline = time.monotonic() + timeout
        self.call_on_loop(self._server.close)              # the listening socket: no new sessions
        while self._intake.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(LOOP_TICK_SECONDS)
        time.sleep(2 * LOOP_TICK_SECONDS)                  # let the loop deliver the last replies
        self._stopping.set()
        self._intake.put(None)
        for thread in self._threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        self.templates.stop(max(0.1, deadline - time.monotonic()))
        self.passwords.shutdown()
        log.info("ftp server stopped")

    # --- the event loop thread

    def call_on_loop(self, function, *args) -> None:
        """Run `function(*args)` on the event loop thread (thread-safe)."""
        self._loop_calls.put((function, args))

    def _serve(self) -> None:
        ioloop = self._server.ioloop
        try:
            while not self._stopping.is_set():
                if ioloop.socket_map:
                    ioloop.loop(timeout=LOOP_TICK_SECONDS, blocking=False)
                else:
                    time.sleep(LOOP_TICK_SECONDS)
                while not self._loop_calls.empty():
                    function, args = self._loop_calls.get()
                    try:
                        function(*args)
                    except Exception:
                        log.exception("ftp: a deferred call failed")
        finally:
            for session in list(self._server.sessions):     # those waiting for a password check too
                try:
                    session.close()
                except Exception:  # noqa: BLE001 - closing anyway
                    log.debug("ftp: closing a session at stop failed", exc_info=True)
            ioloop.close()

    # --- the intake thread

    def queue_upload(self, account: str, name: str, staged: Path, completed_at: datetime, handler, reply: str) -> None:
        """Hand a staged upload to the intake thread (called on the event loop); `handler`, when given, gets
        `reply` (or a 451) once the file is received."""
        self._intake.put(StagedUpload(account=account, name=name, staged=staged, completed_at=completed_at,
                                      handler=handler, reply=reply))

    def _receive_staged(self) -> None:
        """The intake thread: one upload at a time; whatever goes wrong with one is answered 451 for that
        upload only, and the thread goes on with the next."""
        while True:
            upload = self._intake.get()
            try:
                if upload is None:
                    return
                self._receive(upload)
            except Exception as exc:  # noqa: BLE001 - one upload's failure must not stop the intake
                log.error("file not received name=%s transport=ftp account=%s error=%s: %s", upload.name,
                          upload.account, type(exc).__name__, exc)
                self.call_on_loop(_reply, upload.handler, NOT_RECEIVED_REPLY)
            finally:
                self._intake.task_done()

    def _receive(self, upload: StagedUpload) -> None:
        account = self.authorizer.account(upload.account)
        report_dir = self.homes[upload.account] / REPORTS
        try:
            file_id = receive_file(self.db, self.data_dir, delivery_for(account, upload.name, report_dir,
                                                                        upload.completed_at),
                                   upload.staged, move=True)
        except Exception as exc:
            try:
                kept = quarantine(self.data_dir, upload.staged, upload.account) if upload.staged.exists() else None
            except OSError as moved:
                kept = f"not quarantined ({moved.strerror}), left at {upload.staged}"
            log.error("file not received name=%s transport=ftp account=%s error=%s quarantined=%s",
                      upload.name, upload.account, exc, kept)
            self.call_on_loop(_reply, upload.handler, NOT_RECEIVED_REPLY)
            return
        log.info("file received id=%s name=%s transport=ftp account=%s size=%s", file_id, upload.name,
                 upload.account, _size_of(self.data_dir, file_id))
        self.call_on_loop(_reply, upload.handler, f"{upload.reply}; received as file {file_id}.")
        if self.on_received is not None:
            try:
                self.on_received(file_id)
            except Exception:  # noqa: BLE001 - the file is received; the worker's poll finds it anyway
                log.exception("ftp: waking the worker failed after file %s", file_id)


def _reply(handler, text: str) -> None:
    if handler is not None and not getattr(handler, "_closed", True):
        handler.respond(text)


def _size_of(data_dir: Path, file_id: str) -> int | str:
    try:
        return os.stat(spool_dir(data_dir) / file_id).st_size
    except OSError:
        return "?"

