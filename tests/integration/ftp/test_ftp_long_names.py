"""Upload names that are legal but long in bytes, over the real FTP server: every name StockGate derives from
them (reports, quarantine) fits the file system, and a restart (recovery, the FTP server's start) completes."""

from __future__ import annotations

import json

import pytest

from ftp_test_harness import wait_until
from gateway.pipeline import recover

QU = b"SKU,EAST,WEST\r\nCJK-1,5,7\r\n"


def _listing(gateway, folder: str, username: str = "east") -> list[str]:
    ftp = gateway.login(username)
    try:
        return sorted(name.rsplit("/", 1)[-1] for name in ftp.nlst(folder))
    finally:
        ftp.quit()


@pytest.mark.parametrize("name", ["仓" * 80 + ".csv", "仓" * 84], ids=["80-cjk-csv-244-bytes", "84-cjk-252-bytes"])
def test_a_long_utf8_upload_name_gets_both_report_files_in_the_logins_reports(gateway, name):
    reply = gateway.upload(QU, name)          # ftplib sends the name as UTF-8

    [row] = gateway.wait_for_finished_files(1)
    assert reply.startswith("226") and (row.name, row.status) == (name, "applied")
    reports = wait_until(lambda: len(names := [n for n in _listing(gateway, "/reports") if row.file_id in n]) == 2
                         and names, 10, "both report files in /reports")
    assert all(len(n.encode()) <= 255 and n.startswith("仓仓仓") for n in reports)
    assert [n.split(f".{row.file_id}.", 1)[1] for n in reports] == ["report.csv", "report.json"]
    if name.endswith(".csv"):
        assert all(f".csv.{row.file_id}." in n for n in reports)   # the sender's extension is kept
    document = json.loads(gateway.download(f"/reports/{reports[1]}"))
    assert (document["name"], document["status"]) == (name, "applied")
    assert gateway.on_hand("CJK-1", "WEST") == 7


def test_after_a_long_named_upload_and_a_long_named_partial_one_the_restart_completes(start_ftp, data_dir):
    first = start_ftp()
    long_name = "仓" * 80 + ".csv"
    first.upload(QU, long_name)
    [row] = first.wait_for_finished_files(1)
    first.stop()
    inbox = data_dir / "ftp" / "east" / "inbox"
    (inbox / long_name).write_bytes(QU[:12])                  # what a crash mid-upload leaves behind
    (inbox / ("仓" * 82 + ".csv.part")).write_bytes(QU[:9])   # 252 bytes, no completion record

    counts = recover(first.db, first.settings)
    again = start_ftp()

    assert counts["failed"] == 0
    assert not any(inbox.iterdir())
    quarantined = sorted(p.name for p in (data_dir / "quarantine").iterdir())
    assert len(quarantined) == 2 and all(len(n.encode()) <= 255 and "-east-仓" in n for n in quarantined)
    assert sorted(n.rsplit(".", 1)[-1] for n in quarantined) == ["csv", "part"]
    assert [n for n in _listing(again, "/reports") if row.file_id in n]
    assert again.upload(b"SKU,EAST\r\nCJK-1,6\r\n", "next.csv").startswith("226")
    again.wait_for_finished_files(2)
    assert [f.status for f in again.files()] == ["applied", "applied"]
