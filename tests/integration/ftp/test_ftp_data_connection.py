"""A data connection reset (a real RST: SO_LINGER 0) is an incomplete upload: never a 226, nothing
applied, the partial file quarantined; and a reset before the first byte still gets a reply."""

from __future__ import annotations

import ftplib
import io
import socket
import struct
import time

import pytest

from ftp_test_harness import wait_until

CONTENT = b"SKU,EAST,WEST\r\nA1,1200,7\r\nB2,300,4\r\n"


def _reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _open_data_connection(ftp: ftplib.FTP) -> socket.socket:
    host, port = ftplib.parse227(ftp.sendcmd("PASV"))
    return socket.create_connection((host, port), timeout=10)


def _final_reply(ftp: ftplib.FTP) -> str:
    """The reply after any 1xx, whatever its class (the control connection must not be left waiting)."""
    ftp.sock.settimeout(15)
    while True:
        try:
            reply = ftp.getresp()
        except ftplib.Error as exc:
            return str(exc)
        if not reply.startswith("1"):
            return reply


@pytest.mark.parametrize("cut", [CONTENT.index(b"00,7"), CONTENT.index(b"\r\nB2"), len(CONTENT) - 2])
def test_a_data_connection_reset_mid_upload_is_never_acknowledged_and_the_partial_file_is_quarantined(
        gateway, data_dir, cut):
    inbox = gateway.home("east") / "inbox"
    ftp = gateway.login()
    ftp.voidcmd("TYPE I")
    data = _open_data_connection(ftp)
    ftp.putcmd("STOR /inbox/cut.csv")
    data.sendall(CONTENT[:cut])
    assert ftp.getresp()[:3] in ("125", "150")
    wait_until(lambda: f"Total bytes received: {cut}" in ftp.sendcmd("STAT"), 10,
               "the server to have read the first bytes")
    _reset(data)
    reply = _final_reply(ftp)

    assert reply[:3] in ("426", "451"), reply
    wait_until(lambda: not any(inbox.iterdir()), 10, "the partial file to leave the inbox")
    time.sleep(0.5)                      # give a wrongly queued upload the chance to show up
    assert gateway.files() == []
    assert gateway.on_hand("A1", "EAST") is None
    [kept] = (data_dir / "quarantine").iterdir()
    assert kept.name.endswith("-east-cut.csv") and kept.read_bytes() == CONTENT[:cut]

    again = ftp.storbinary("STOR /inbox/cut.csv", io.BytesIO(CONTENT))    # the same session sends it again
    ftp.quit()
    [row] = gateway.wait_for_finished_files(1)
    assert again.startswith("226") and (row.status, gateway.on_hand("A1", "EAST")) == ("applied", 1200)


@pytest.mark.parametrize("when", ["after STOR", "before STOR"])
def test_a_data_connection_reset_before_the_first_byte_gets_a_426(gateway, when):
    ftp = gateway.login()
    ftp.voidcmd("TYPE I")
    data = _open_data_connection(ftp)
    if when == "before STOR":
        _reset(data)
        ftp.putcmd("STOR /inbox/empty.csv")
    else:
        ftp.putcmd("STOR /inbox/empty.csv")
        assert ftp.getresp()[:3] in ("125", "150")
        _reset(data)
    reply = _final_reply(ftp)

    assert reply.startswith("426"), reply
    assert ftp.storbinary("STOR /inbox/empty.csv", io.BytesIO(CONTENT)).startswith("226")
    ftp.quit()
    [row] = gateway.wait_for_finished_files(1)
    assert row.status == "applied"
    assert not any((gateway.home("east") / "inbox").iterdir())
