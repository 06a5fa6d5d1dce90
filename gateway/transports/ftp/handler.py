"""The FTP control and data handlers' StockGate behaviour, as mixins that `FtpServer` combines with
pyftpdlib's plain or TLS handlers into classes made for one server (never patching the library).

Control: advertises (FEAT, HELP) only what works, refuses dangerous path arguments, appends, resumed
uploads and uploads outside the inbox with replies that say why, answers `SITE CHMOD` and `MFMT` in the
inbox without changing anything, locks out addresses, changes directory without moving the process,
stages completed uploads (sub-folders of the inbox too) and owes the client its `226` until the file is
durable; an incomplete upload is removed (aborted, too large) or quarantined (its data connection reset
or failed). The data channel's side is in `data`.
"""

from __future__ import annotations

import logging
import os

from channels.stability import is_temporary_name
from gateway.clock import now
from gateway.transports.ftp.access import MAX_INBOX_DEPTH, inbox_name
from gateway.transports.ftp.data import DataConnectionGuardMixin
from gateway.transports.ftp.guard import path_refusal
from gateway.transports.ftp.inbox import quarantine, stage
from gateway.transports.ftp.logins import LoginMixin

log = logging.getLogger("gateway.transports.ftp")

# A client killed mid-upload closes its data and control connections together; pyftpdlib may see the
# data EOF (which looks like a finished upload) first. Waiting this long before queueing lets a dead
# control connection show, so such an upload is not taken for a complete one.
ACK_GRACE_SECONDS = 0.25

_PATH_COMMANDS = frozenset({"CWD", "XCWD", "LIST", "NLST", "MLSD", "MLST", "STAT", "RETR", "STOR", "STOU", "APPE",
                            "DELE", "RMD", "XRMD", "MKD", "XMKD", "RNFR", "RNTO", "SIZE", "MDTM", "MFMT", "SITE"})
# MFMT outside the inbox (a client setting a download's time) is refused, but nothing to warn about
_ROUTINE_REFUSALS = frozenset({"MFMT"})
# recognised so that the reply can say why, but never carried out: not listed by HELP
_REFUSED = {"APPE": "Appending (APPE) is not supported: upload the whole file again with STOR.",
            "STOU": "STOU is not supported: upload with STOR and a file name."}
RESUME_REFUSED = "554 Resuming an upload (REST before STOR) is not supported: upload the whole file again."
OUTSIDE_INBOX = "553 Uploads go to /inbox: store the file as /inbox/NAME (or in a sub-folder of /inbox)."
TOO_DEEP = f"553 Sub-folders of /inbox go at most {MAX_INBOX_DEPTH} levels deep."


class GatewayHandlerMixin(LoginMixin, DataConnectionGuardMixin):
    """Control channel of a StockGate FTP session; `gateway` is the owning `FtpServer`."""

    gateway = None

    def __init__(self, conn, server, ioloop=None):
        self._transfer_reply_owed = False
        self._upload_cut_off = False
        self._quit_requested = False
        super().__init__(conn, server, ioloop)

    # --- refusals and audit

    def pre_process_command(self, line, cmd, arg):
        if self.authenticated and arg and cmd in _PATH_COMMANDS:
            why = path_refusal(arg)
            if why:
                self.respond(f"553 Name refused: {why}.")
                self.log_cmd(cmd, arg, 553, why)
                return
        if self.authenticated and self._refused_before_permissions(cmd, arg):
            return
        super().pre_process_command(line, cmd, arg)

    def _refused_before_permissions(self, cmd, arg) -> bool:
        """Answer what pyftpdlib would refuse with a bare "Not enough privileges": an append, an upload
        outside the inbox or too deep in it, a folder that already exists. True when answered."""
        if cmd == "APPE":
            self._restart_position = 0
            reply = f"502 {_REFUSED['APPE']}"
        elif cmd == "STOR" and arg:
            parts = self._inbox_parts(arg)
            if parts is None:
                reply = OUTSIDE_INBOX
            elif len(parts) - 1 > MAX_INBOX_DEPTH:
                reply = TOO_DEEP
            else:
                return False
            self._restart_position = 0
        elif cmd in ("MKD", "XMKD") and arg and _is_folder(self.fs.ftp2fs(arg)):
            self.respond(f'550 "{self.fs.ftpnorm(arg)}" already exists.')    # mirror -R asks for /inbox itself
            return True
        else:
            return False
        self.respond(reply)
        self.log_cmd(cmd, arg, int(reply[:3]), reply[4:])
        return True

    def _inbox_parts(self, arg) -> list[str] | None:
        """The parts of FTP path `arg` below /inbox (the file name last), or None when it is not below it."""
        name = inbox_name(self.fs.root, self.fs.ftp2fs(arg))
        return name.split("/") if name else None

    def _inbox_name(self, path) -> str:
        """The name of the real path `path` inside this account's inbox (`sub/x.csv`)."""
        return inbox_name(self.fs.root, path) or os.path.basename(path)

    # --- what the server says it can do

    def ftp_FEAT(self, line):
        """pyftpdlib's list without MFMT (times in the inbox are not kept: the file is processed, not
        stored); REST STREAM stays, for resuming downloads."""
        features = {"TVFS", "UTF8", "EPRT", "EPSV", "MDTM", "SIZE", "REST STREAM", *self._extra_feats}
        facts = "".join(f"{fact}{'*' if fact in self._current_facts else ''};" for fact in self._available_facts)
        features.add(f"MLST {facts}")
        self.push("211-Features supported:\r\n")
        self.push("".join(f" {feature}\r\n" for feature in sorted(features)))
        self.respond("211 End FEAT.")

    def ftp_HELP(self, line):
        if line and line.upper() in _REFUSED:
            self.respond(f"214 {_REFUSED[line.upper()]}")
            return
        if line:
            super().ftp_HELP(line)
            return
        commands = sorted(c for c in self.proto_cmds if not c.startswith("SITE ") and c not in _REFUSED)
        self.push("214-The following commands are recognized:\r\n")
        self.push("".join(" %-6s" * len(row) % row + "\r\n"
                          for row in (tuple(commands[i:i + 8]) for i in range(0, len(commands), 8))))
        self.respond("214 Help command successful.")

    # --- what clients send after an upload: answered, and ignored

    def ftp_SITE_CHMOD(self, path, mode):
        if not (len(mode) in (3, 4) and all(ch in "01234567" for ch in mode)):
            self.respond("501 Invalid SITE CHMOD format.")
            return None
        self.respond("200 SITE CHMOD ignored: files in /inbox are processed, not kept.")
        return (path, mode)

    def ftp_MFMT(self, path, timeval):
        digits = timeval.split(".", 1)[0]
        if len(digits) != 14 or not digits.isdigit():
            self.respond("501 Invalid time format; expected: YYYYMMDDHHMMSS.")
            return None
        self.respond(f"213 Modify={digits}; {self.fs.fs2ftp(path)} (the time is not kept: files in /inbox are "
                     "processed, not kept).")
        return (digits, path)

    def log_cmd(self, cmd, arg, respcode, respstr):
        if respcode >= 550 and cmd in _PATH_COMMANDS and cmd not in _ROUTINE_REFUSALS:
            log.warning("ftp refused user=%s ip=%s command=%s path=%r reply=%s %s", self.username, self.remote_ip,
                        cmd, arg, respcode, respstr)
        super().log_cmd(cmd, arg, respcode, respstr)

    def ftp_CWD(self, path):
        # pyftpdlib's CWD reads and restores the process's current directory; ours never touches it
        try:
            self.fs.chdir(path)
        except OSError as exc:
            self.respond(f"550 {exc.strerror or 'Cannot change directory'}.")
            return None
        self.respond(f'250 "{self.fs.cwd}" is the current directory.')
        return path

    # --- logins and lockout

    def ftp_PASS(self, line):
        if not self.authenticated and self.username:
            remaining = self.gateway.guard.seconds_locked(self.remote_ip)
            if remaining:
                log.warning("ftp login refused (address locked out) user=%s ip=%s", self.username, self.remote_ip)
                self.username = ""
                self.attempted_logins += 1
                self.respond(f"530 Too many failed logins from your address; try again in "
                             f"{max(1, round(remaining / 60))} minute(s).")
                if self.attempted_logins >= self.max_login_attempts:
                    self.close_when_done()
                return
        super().ftp_PASS(line)

    def handle_auth_failed(self, msg, password):
        locked = self.gateway.guard.record_failure(self.remote_ip)
        log.warning("ftp login failed user=%s ip=%s%s", self.username, self.remote_ip,
                    " (address now locked out)" if locked else "")
        super().handle_auth_failed(msg, password)

    def handle_auth_success(self, home, password, msg_login):
        self.gateway.guard.record_success(self.remote_ip)
        log.info("ftp login user=%s ip=%s", self.username, self.remote_ip)
        super().handle_auth_success(home, password, msg_login)

    def ftp_QUIT(self, line):
        self._quit_requested = True
        super().ftp_QUIT(line)

    # --- uploads

    def ftp_STOR(self, file, mode="w"):
        if self._restart_position:
            self._restart_position = 0
            self.respond(RESUME_REFUSED)
            return None
        if file in self.gateway.uploads_in_progress:
            self.respond("550 This file is being uploaded by another session.")
            return None
        if is_temporary_name(os.path.basename(file)):
            self.gateway.records.forget(self.username, self._inbox_name(file))
        self._upload_cut_off = False
        result = super().ftp_STOR(file, mode)
        if result:
            self.gateway.uploads_in_progress.add(file)
        return result

    def ftp_STOU(self, line):
        self.respond(f"550 {_REFUSED['STOU']}")

    def on_file_received(self, file):
        self.gateway.uploads_in_progress.discard(file)
        owed, self._transfer_reply_owed = self._transfer_reply_owed, False
        name = self._inbox_name(file)                 # `sub/stock.csv` for a file in a sub-folder
        if is_temporary_name(os.path.basename(file)):
            self.gateway.records.remember(self.username, name, file)
            if owed:
                self.respond("226 Transfer complete; rename the file to its final name to have it processed.")
            return
        try:
            staged = stage(self.gateway.data_dir, file)
        except OSError as exc:
            log.error("ftp upload could not be staged user=%s name=%s error=%s", self.username, name, exc)
            if owed:
                self.respond("451 The upload could not be stored; please send it again.")
            return
        self.ioloop.call_later(ACK_GRACE_SECONDS, self._queue_unless_abandoned, self.username, name, staged, now(),
                               owed, _errback=self.handle_error)

    def _queue_unless_abandoned(self, username, name, staged, completed_at, owed):
        if self._closed and not self._quit_requested:
            kept = quarantine(self.gateway.data_dir, staged, username)
            log.warning("ftp upload discarded user=%s name=%s: the client disconnected before the transfer was "
                        "acknowledged (kept as %s, not processed)", username, name, kept)
            return
        self.gateway.queue_upload(username, name, staged, completed_at, self if owed else None,
                                  "226 Transfer complete")

    def ftp_ABOR(self, line):
        self._drop_queued_upload()
        super().ftp_ABOR(line)

    def close(self):
        if not self._closed:
            self._drop_queued_upload()
        super().close()

    def on_incomplete_file_received(self, file):
        self.gateway.uploads_in_progress.discard(file)
        self._transfer_reply_owed = False
        name = self._inbox_name(file)
        self.gateway.records.forget(self.username, name)
        broken, self._upload_broken = self._upload_broken, None
        if broken:                  # a reset or error: keep what arrived for inspection, never process it
            try:
                kept = quarantine(self.gateway.data_dir, file, self.username, name)
            except OSError as exc:
                kept = f"nowhere ({exc.strerror}); removed"
                _remove(file)
            log.warning("ftp upload incomplete user=%s name=%s: %s; kept as %s, not processed", self.username,
                        name, broken, kept)
            return
        _remove(file)
        reason = "larger than max_upload_mb" if self._upload_cut_off else "aborted by the client"
        log.info("ftp upload discarded user=%s name=%s: %s", self.username, name, reason)

    # --- renames and deletes inside the inbox

    def ftp_RNFR(self, path):
        if path in self.gateway.uploads_in_progress:
            self.respond("550 This file is still being uploaded.")
            return
        if _is_folder(path):
            self.respond("550 Folders cannot be renamed; only files in /inbox can.")
            return
        super().ftp_RNFR(path)

    def ftp_RNTO(self, path):
        source = self._rnfr
        if not source:
            return super().ftp_RNTO(path)
        records, old_name, new_name = self.gateway.records, self._inbox_name(source), self._inbox_name(path)
        complete = records.is_complete(self.username, old_name, source)
        if is_temporary_name(os.path.basename(path)):
            result = super().ftp_RNTO(path)
            if result:
                records.forget(self.username, old_name)
                if complete:
                    records.remember(self.username, new_name, path)
            return result
        self._rnfr = None
        if not complete:
            self.respond("550 Only a completely uploaded file can be renamed to a final name.")
            return None
        if not _is_folder(os.path.dirname(path)) or os.path.lexists(path):
            what = "is taken" if os.path.lexists(path) else "is in a folder that does not exist"
            self.respond(f"550 Rename failed: {self.fs.fs2ftp(path)} {what}.")
            return None
        try:
            staged = stage(self.gateway.data_dir, source)
        except OSError as exc:
            self.respond(f"550 Rename failed: {exc.strerror}.")
            return None
        records.forget(self.username, old_name)
        self.gateway.queue_upload(self.username, new_name, staged, now(), self, "250 Renaming ok")
        return (source, path)

    def ftp_DELE(self, path):
        if path in self.gateway.uploads_in_progress:
            self.respond("550 This file is still being uploaded.")
            return None
        result = super().ftp_DELE(path)
        if result:
            self.gateway.records.forget(self.username, self._inbox_name(path))
        return result


def _is_folder(path) -> bool:
    return os.path.isdir(path) and not os.path.islink(path)


def _remove(path) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
