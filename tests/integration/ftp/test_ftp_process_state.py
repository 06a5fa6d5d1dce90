"""The FTP server never moves the process: `CWD` keeps to the session (no `os.chdir`, which would move
every thread of `serve`), and one upload that cannot be received is answered 451 without stopping the
intake of the next."""

from __future__ import annotations

import ftplib
import io
import os
import sys
import threading

import pytest

_chdirs: list[str] = []
_watching = threading.Event()


def _record_chdir(event: str, args: tuple) -> None:
    if event == "os.chdir" and _watching.is_set():
        _chdirs.append(str(args[0]))


sys.addaudithook(_record_chdir)     # audit hooks cannot be removed: it records only while watching


def test_changing_directory_over_ftp_never_changes_the_process_directory(gateway):
    before = os.getcwd()
    ftp = gateway.login("west")
    replies = []
    _chdirs.clear()
    _watching.set()
    try:
        for path in ("inbox", "/", "templates", "/inbox", "/reports"):
            replies.append(ftp.sendcmd(f"CWD {path}")[:3])
        replies.append(ftp.pwd())
        ftp.sendcmd("CDUP")
        with pytest.raises(ftplib.error_perm, match="^550"):
            ftp.cwd("/no-such-folder")
        with pytest.raises(ftplib.error_perm, match="^550"):
            ftp.cwd("/templates/quantity_update.csv")
        replies.append(ftp.pwd())
    finally:
        _watching.clear()
        ftp.quit()

    assert _chdirs == []
    assert os.getcwd() == before
    assert replies == ["250"] * 5 + ["/reports", "/"]


def test_an_upload_that_cannot_be_received_gets_451_and_the_next_one_is_received(gateway, data_dir):
    (data_dir / "spool").write_text("a file where the spool folder should be")
    (data_dir / "quarantine").write_text("and one where the quarantine should be")

    ftp = gateway.login()
    with pytest.raises(ftplib.error_temp, match="^451"):
        ftp.storbinary("STOR /inbox/first.csv", io.BytesIO(b"SKU,EAST\r\nA1,5\r\n"))
    (data_dir / "spool").unlink()
    (data_dir / "quarantine").unlink()
    reply = ftp.storbinary("STOR /inbox/second.csv", io.BytesIO(b"SKU,EAST\r\nA1,6\r\n"))
    ftp.quit()

    [row] = gateway.wait_for_finished_files(1)
    assert reply.startswith("226") and row.file_id in reply
    assert (row.name, row.status) == ("second.csv", "applied")
    assert gateway.on_hand("A1", "EAST") == 6
