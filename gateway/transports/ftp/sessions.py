"""Who gets an FTP session: at most `ftp.max_connections` sessions and `ftp.max_connections_per_ip` per
address, of which sessions that have not logged in yet may hold only `PRE_LOGIN_SHARE`; the rest is kept
for sessions that logged in.

When the pre-login share (or the whole server) is full, the session that has waited longest without a
command and is not in the middle of a login is dropped (`421`) to admit the newcomer, so idle
connections held open by a stranger cannot keep a warehouse from logging in. A refused newcomer (over its
address's cap, or every session logged in or logging in) gets `421` and nothing else changes.
"""

from __future__ import annotations

import logging

log = logging.getLogger("gateway.transports.ftp")

PRE_LOGIN_SHARE = 0.75
DROPPED_REPLY = "421 Too many connections waiting to log in; this one was idle longest. Try again."


def pre_login_limit(max_connections: int) -> int:
    """How many of `max_connections` sessions may be waiting to log in at once (at least 1)."""
    return max(1, int(max_connections * PRE_LOGIN_SHARE))


class AdmissionServerMixin:
    """An FTP server (pyftpdlib's `FTPServer` below it) that admits sessions by the rules above; the
    handler class removes itself from `sessions` when it closes."""

    max_sessions = 256

    def __init__(self, *args, **kwargs):
        self.sessions: dict = {}                # handler -> None, in order of arrival
        super().__init__(*args, **kwargs)

    def handle_accepted(self, sock, addr):
        handler, ip = None, None
        try:
            handler = self.handler(sock, self, ioloop=self.ioloop)
            if not handler.connected:
                return None
            ip = addr[0]
            self.ip_map.append(ip)
            if self.max_cons_per_ip and self.ip_map.count(ip) > self.max_cons_per_ip:
                handler.handle_max_cons_per_ip()
                return None
            if not self._make_room():
                log.warning("ftp connection refused ip=%s: %s sessions, all logged in or logging in", ip,
                            len(self.sessions))
                handler.handle_max_cons()
                return None
            self.sessions[handler] = None
            handler.handle()
            return handler
        except Exception:
            log.exception("ftp: a new connection could not be set up (ip=%s)", ip)
            if handler is not None:
                handler.close()
            elif ip is not None and ip in self.ip_map:
                self.ip_map.remove(ip)
            return None

    def _make_room(self) -> bool:
        """True when a new session may start, after dropping the idlest waiting one if needed."""
        waiting = [h for h in self.sessions if not h.authenticated]
        if len(self.sessions) < self.max_sessions and len(waiting) < pre_login_limit(self.max_sessions):
            return True
        idle = [h for h in waiting if h.waiting_to_log_in]
        if not idle:
            return False
        victim = min(idle, key=lambda h: h.last_activity)
        log.info("ftp session dropped ip=%s: not logged in and idle longest, to admit a new connection",
                 victim.remote_ip)
        victim.respond(DROPPED_REPLY)
        victim.close()
        return True
