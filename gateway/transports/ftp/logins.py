"""FTP logins off the event loop: argon2 checks run in a small worker pool, and a session that has not
logged in within `ftp.login_timeout_seconds` is closed.

While its password is being checked a session reads no commands (lines already received wait, in
order), so it answers `PASS` first; every other session goes on being served. The lockout rules hold:
an address locked out meanwhile is refused even with the right password, and a failure counts even when
the client left before the answer. Any error in a check is a refusal (fail closed).
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor

from pyftpdlib.authorizers import AuthenticationFailed

log = logging.getLogger("gateway.transports.ftp")

PASSWORD_CHECK_WORKERS = 2
MAX_HELD_LINES = 64          # commands pipelined behind a PASS; more are ignored
BUSY_RETRY_SECONDS = 1.0     # a login timeout falling due while a check runs waits this much longer


class PasswordChecks:
    """The worker pool that runs password checks for one FTP server."""

    def __init__(self, authorizer, guard, workers: int = PASSWORD_CHECK_WORKERS):
        self.authorizer, self.guard = authorizer, guard
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ftp-login")

    def submit(self, username: str, password: str, address: str, done) -> None:
        """Check `password` in a worker; `done(future)` is called in that worker when it is decided, the
        future's result being (home, login message) or None for a refusal."""
        future = self._pool.submit(self._check, username, password, address)
        future.add_done_callback(done)

    def _check(self, username: str, password: str, address: str) -> tuple[str, str] | None:
        if self.guard.seconds_locked(address):
            return None                         # locked out while this check waited its turn
        try:
            self.authorizer.validate_authentication(username, password, None)
            return self.authorizer.get_home_dir(username), self.authorizer.get_msg_login(username)
        except AuthenticationFailed:
            return None
        except Exception:  # noqa: BLE001 - fail closed
            log.exception("ftp login check failed user=%s ip=%s (refused)", username, address)
            return None

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class LoginMixin:
    """Control channel: `PASS` checked by the gateway's `PasswordChecks`, a login deadline, and the time
    of the last command (the admission of new sessions drops the idlest one waiting to log in)."""

    def __init__(self, *args, **kwargs):
        self._login_busy = False            # a password check, or pyftpdlib's delay after a failure
        self._held_lines: list[tuple[str, str, str]] = []
        self._login_timer = None
        self.last_activity = time.monotonic()
        super().__init__(*args, **kwargs)

    @property
    def waiting_to_log_in(self) -> bool:
        """Connected, not logged in, and not in the middle of a login."""
        return not self.authenticated and not self._login_busy

    def handle(self):
        super().handle()
        if not self._closed:
            self._arm_login_timer(self.gateway.ftp.login_timeout_seconds)

    def _arm_login_timer(self, seconds: float) -> None:
        self._login_timer = self.ioloop.call_later(seconds, self._login_timed_out, _errback=self.handle_error)

    def _login_timed_out(self) -> None:
        if self._closed or self.authenticated:
            return
        if self._login_busy:
            self._arm_login_timer(BUSY_RETRY_SECONDS)
            return
        seconds = self.gateway.ftp.login_timeout_seconds
        log.info("ftp session closed: no login within %ss ip=%s", f"{seconds:g}", self.remote_ip)
        self.respond(f"421 Login timed out: no login within {seconds:g} seconds.")
        self.close_when_done()

    def pre_process_command(self, line, cmd, arg):
        self.last_activity = time.monotonic()
        if self._login_busy:
            if len(self._held_lines) < MAX_HELD_LINES:
                self._held_lines.append((line, cmd, arg))
            return
        super().pre_process_command(line, cmd, arg)

    def _replay_held_lines(self) -> None:
        while self._held_lines and not self._login_busy and not self._closed:
            self.pre_process_command(*self._held_lines.pop(0))

    def ftp_PASS(self, line):
        if self.authenticated or not self.username:
            return super().ftp_PASS(line)           # pyftpdlib's 503 replies
        username, address = self.username, self.remote_ip
        self._login_busy = True
        self.del_channel()                          # read nothing more until the check is decided
        self.gateway.passwords.submit(username, line, address, lambda future: self.gateway.call_on_loop(
            self._password_checked, username, line, future))
        return None

    def _password_checked(self, username: str, password: str, future: Future) -> None:
        result = None if future.cancelled() or future.exception() else future.result()
        if result is not None and self.gateway.guard.seconds_locked(self.remote_ip):
            result = None                           # locked out meanwhile: even the right password is refused
        self._login_busy = False
        if self._closed:
            if result is None:
                locked = self.gateway.guard.record_failure(self.remote_ip)
                log.warning("ftp login failed user=%s ip=%s (client gone before the answer)%s", username,
                            self.remote_ip, " (address now locked out)" if locked else "")
            return
        self.add_channel()
        if result is None:
            self.handle_auth_failed("Authentication failed.", password)
        else:
            self.handle_auth_success(result[0], password, result[1])
        self._replay_held_lines()

    def handle_auth_failed(self, msg, password):
        super().handle_auth_failed(msg, password)
        self._login_busy = True                     # until pyftpdlib's delayed 530 (on_login_failed)

    def on_login_failed(self, username, password):
        self._login_busy = False
        super().on_login_failed(username, password)
        self._replay_held_lines()

    def handle_auth_success(self, home, password, msg_login):
        if self._login_timer is not None and not self._login_timer.cancelled:
            self._login_timer.cancel()
        super().handle_auth_success(home, password, msg_login)

    def close(self):
        if not self._closed:
            if self._login_timer is not None and not self._login_timer.cancelled:
                self._login_timer.cancel()
            self.server.sessions.pop(self, None)
        super().close()
