"""FTP data connections: an upload counts as complete only when its data connection ended cleanly.

In stream mode the end of a file is the close of its data connection, so a connection reset (RST), a
socket error or a stalled transfer is an incomplete upload: answered `426`, never `226`, and the partial
file quarantined (pyftpdlib on its own reports a reset as a normal end and answers `226`). A transfer
command whose data connection can no longer come (it was reset before the command, or never opened) is
answered at once instead of waiting for ever.
"""

from __future__ import annotations

import errno
import os
import socket
import sys

from pyftpdlib.log import logger as pyftpdlib_logger

RESET_REPLY = ("426 Data connection reset: the upload is incomplete and was not processed; "
               "please send the file again.")
LOST_BEFORE_TRANSFER_REPLY = ("426 The data connection was closed before the transfer began; nothing was "
                              "transferred. Open a new one (PASV) and send the command again.")
NO_DATA_CONNECTION_REPLY = "425 No data connection: send PASV (or PORT) first."

_DISCONNECTED = frozenset({errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE, errno.ETIMEDOUT, errno.ENOTCONN,
                           errno.ESHUTDOWN})
_TRANSFER_COMMANDS = frozenset({"STOR", "APPE", "RETR", "LIST", "NLST", "MLSD"})
_DATA_CONNECTION_COMMANDS = frozenset({"PASV", "EPSV", "PORT", "EPRT"})


def connection_error(sock) -> str | None:
    """Why a data connection that just ended did not end cleanly, or None for a clean end (EOF).

    Called while pyftpdlib handles the end: a reset shows as the exception being handled (pyftpdlib
    turns ECONNRESET from `recv` into a close), or else as the socket's pending error."""
    exc = sys.exc_info()[1]
    code = getattr(exc, "errno", None)
    if code is None and exc is not None and exc.args and isinstance(exc.args[0], int):
        code = exc.args[0]                      # pyOpenSSL's SysCallError(errno, text)
    if code in _DISCONNECTED:
        return os.strerror(code)
    try:
        pending = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    except (OSError, AttributeError, TypeError):
        return None
    return os.strerror(pending) if pending else None


class GatewayDTPMixin:
    """Data channel: cut an upload off as soon as it passes `max_upload_bytes`; treat a reset, an error or
    a stall as an incomplete upload; and do not send the `226` of a completed upload (the control handler
    sends it once the file is received)."""

    max_upload_bytes = 0

    def handle_read_event(self):
        super().handle_read_event()
        if (self.receive and self.max_upload_bytes and not self._closed
                and self.tot_bytes_received > self.max_upload_bytes):
            self.cmd_channel._upload_cut_off = True
            self.transfer_finished = False
            limit_mb = self.max_upload_bytes // (1024 * 1024)
            self._resp = (f"552 Upload cut off: files over {limit_mb} MB are not accepted; nothing was processed.",
                          pyftpdlib_logger.warning)
            self.close()

    def handle_error(self):
        if self.receive and not self._closed:
            self.cmd_channel._upload_broken = "an error on the data connection"
        super().handle_error()

    def handle_timeout(self):
        super().handle_timeout()
        if self.receive and self._closed:
            self.cmd_channel._upload_broken = "the data connection stalled"

    def close(self):
        if not self._closed and self.receive and self.transfer_finished:
            broken = connection_error(self.socket)
            if broken:
                self.transfer_finished = False
                self.cmd_channel._upload_broken = f"the data connection was reset ({broken})"
                self._resp = (RESET_REPLY, pyftpdlib_logger.warning)
            elif self._resp and self._resp[0].startswith("226"):
                self._resp = ()
                self.cmd_channel._transfer_reply_owed = True
        super().close()


def _alive(dispatcher) -> bool:
    return dispatcher is not None and not getattr(dispatcher, "_closed", False)


class DataConnectionGuardMixin:
    """Control channel: a transfer command waiting for a data connection that can no longer come (no
    listener, no connector, no open channel) is answered at once, `426` when the client's data connection
    was closed or reset before it, `425` when none was ever asked for."""

    def __init__(self, *args, **kwargs):
        self._upload_broken: str | None = None
        self._data_connection_lost = False
        super().__init__(*args, **kwargs)

    def process_command(self, cmd, *args, **kwargs):
        if cmd in _DATA_CONNECTION_COMMANDS:
            self._data_connection_lost = False         # a new data connection is on its way
        super().process_command(cmd, *args, **kwargs)
        if cmd in _TRANSFER_COMMANDS:
            self._answer_if_no_data_connection_can_come()

    def _on_dtp_close(self):
        channel = self.data_channel
        if channel is None or channel.cmd is None:
            self._data_connection_lost = True          # closed, reset or failed before any transfer began
        super()._on_dtp_close()
        self._answer_if_no_data_connection_can_come()

    def _answer_if_no_data_connection_can_come(self) -> None:
        if self._closed or (self._in_dtp_queue is None and self._out_dtp_queue is None):
            return
        if self.data_channel is not None or _alive(self._dtp_acceptor) or _alive(self._dtp_connector):
            return
        lost, self._data_connection_lost = self._data_connection_lost, False
        if self._out_dtp_queue is not None:
            file = self._out_dtp_queue[2]
            self._out_dtp_queue = None
            if file is not None:
                file.close()
        self._drop_queued_upload()
        self.respond(LOST_BEFORE_TRANSFER_REPLY if lost else NO_DATA_CONNECTION_REPLY)

    def _drop_queued_upload(self) -> None:
        """Close and discard the file of a STOR whose data connection never came."""
        queued = getattr(self, "_in_dtp_queue", None)
        if queued is not None and queued[0] is not None:
            self._in_dtp_queue = None
            queued[0].close()
            self.on_incomplete_file_received(queued[0].name)
