"""Uploads over FTP against the real server: applied once and whole, reports and templates downloadable,
aborted, oversized and crash-left uploads never processed."""

from __future__ import annotations

import ftplib
import hashlib
import io
import json
import shutil
import socket
import subprocess
import time

import pytest

from ftp_test_harness import PASSWORDS, wait_until

QU = b"SKU,EAST,WEST\r\nA1,5,7\r\nB-100,3,\r\n"


def _report_names(gateway, username="east"):
    ftp = gateway.login(username)
    try:
        return sorted(name.rsplit("/", 1)[-1] for name in ftp.nlst("/reports"))
    finally:
        ftp.quit()


def test_a_file_uploaded_with_ftplib_is_applied_and_its_report_is_downloadable(gateway):
    reply = gateway.upload(QU, "stock.csv")

    [row] = gateway.wait_for_finished_files(1)
    assert reply.startswith("226") and row.file_id in reply
    assert (row.status, row.transport, row.account, row.name) == ("applied", "ftp", "east", "stock.csv")
    assert (gateway.on_hand("A1", "EAST"), gateway.on_hand("A1", "WEST"), gateway.on_hand("B-100", "EAST")) == (5, 7, 3)
    json_name = f"stock.csv.{row.file_id}.report.json"
    wait_until(lambda: json_name in _report_names(gateway), 10, "the report in /reports")
    report = json.loads(gateway.download(f"/reports/{json_name}"))
    assert (report["file_id"], report["status"], report["rows"]["applied"]) == (row.file_id, "applied", 2)
    assert not any((gateway.home("east") / "inbox").iterdir())


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_a_file_uploaded_with_curl_is_applied_and_its_report_is_downloadable(gateway, tmp_path):
    source = tmp_path / "curl-stock.csv"
    source.write_bytes(QU)
    url = f"ftp://east:{PASSWORDS['east']}@127.0.0.1:{gateway.port}"
    upload = subprocess.run(["curl", "-sS", "-T", str(source), f"{url}/inbox/"], capture_output=True, timeout=30)

    [row] = gateway.wait_for_finished_files(1)
    assert upload.returncode == 0, upload.stderr
    assert (row.status, row.name) == ("applied", "curl-stock.csv")
    report_url = f"{url}/reports/curl-stock.csv.{row.file_id}.report.json"
    fetched = wait_until(lambda: (r := subprocess.run(["curl", "-sS", report_url], capture_output=True, timeout=30))
                         .returncode == 0 and r.stdout, 10, "the report downloadable with curl")
    assert json.loads(fetched)["status"] == "applied"


def _big_quantity_file(rows: int) -> bytes:
    return b"SKU,EAST\r\n" + b"".join(b"S%07d,%d\r\n" % (i, i % 50) for i in range(rows))


def test_an_upload_aborted_halfway_applies_nothing_and_leaves_no_partial_file(gateway):
    ftp = gateway.login()
    ftp.voidcmd("TYPE I")
    data = ftp.transfercmd("STOR /inbox/aborted.csv")
    data.sendall(_big_quantity_file(100_000)[:1_000_000])
    ftp.abort()
    data.close()
    ftp.quit()

    wait_until(lambda: not any((gateway.home("east") / "inbox").iterdir()), 10, "the partial file to go")
    time.sleep(0.5)  # give a wrongly queued upload the chance to show up
    assert gateway.files() == []
    assert gateway.on_hand("S0000001", "EAST") is None


def test_an_upload_whose_connections_drop_halfway_is_never_processed(gateway):
    ftp = gateway.login()
    ftp.voidcmd("TYPE I")
    data = ftp.transfercmd("STOR /inbox/dropped.csv")
    data.sendall(_big_quantity_file(100_000)[:500_000])
    data.close()               # the client dies: both connections close at once
    ftp.close()

    wait_until(lambda: not any((gateway.home("east") / "inbox").iterdir()), 10, "the partial file to leave the inbox")
    time.sleep(1.0)
    assert gateway.files() == []
    assert gateway.on_hand("S0000001", "EAST") is None


def test_a_slow_upload_is_processed_once_and_whole(gateway):
    content = _big_quantity_file(3_000)
    ftp = gateway.login()
    ftp.voidcmd("TYPE I")
    data = ftp.transfercmd("STOR /inbox/slow.csv")
    for offset in range(0, len(content), 1024):
        data.sendall(content[offset:offset + 1024])
        if offset % (16 * 1024) == 0:
            time.sleep(0.1)      # ~3 s in all while the worker polls every 0.2 s
    data.close()
    reply = ftp.voidresp()
    ftp.quit()

    [row] = gateway.wait_for_finished_files(1)
    assert reply.startswith("226")
    assert (row.status, row.size, row.sha256) == ("applied", len(content), hashlib.sha256(content).hexdigest())
    assert (row.rows_total, row.rows_errors) == (3_000, 0)
    assert gateway.on_hand("S0002999", "EAST") == 2999 % 50


def test_a_part_upload_is_processed_once_it_is_renamed(gateway):
    ftp = gateway.login()
    ftp.cwd("/inbox")
    first = ftp.storbinary("STOR stock.csv.part", io.BytesIO(QU))
    time.sleep(0.6)
    assert first.startswith("226") and gateway.files() == []
    assert ftp.nlst() == ["stock.csv.part"]

    ftp.sendcmd("RNFR stock.csv.part")
    renamed = ftp.sendcmd("RNTO stock.csv")
    ftp.quit()

    [row] = gateway.wait_for_finished_files(1)
    assert renamed.startswith("250") and row.file_id in renamed
    assert (row.name, row.status) == ("stock.csv", "applied")
    assert gateway.on_hand("A1", "WEST") == 7
    assert not any((gateway.home("east") / "inbox").iterdir())


def test_an_upload_over_max_upload_mb_is_cut_off_and_never_processed(start_ftp):
    gateway = start_ftp(max_upload_mb=1)
    content = _big_quantity_file(400_000)          # about 5 MB
    ftp = gateway.login()
    with pytest.raises((ftplib.error_perm, ConnectionError, socket.timeout)) as refused:
        ftp.storbinary("STOR /inbox/huge.csv", io.BytesIO(content))
    if isinstance(refused.value, ftplib.error_perm):
        assert str(refused.value).startswith("552")

    wait_until(lambda: not any((gateway.home("east") / "inbox").iterdir()), 10, "the cut-off upload to go")
    time.sleep(0.5)
    assert gateway.files() == []


def test_templates_hold_the_current_quantities_of_the_accounts_warehouses(gateway):
    gateway.upload(QU, "stock.csv")
    gateway.wait_for_finished_files(1)

    template = wait_until(lambda: b"A1,,5,7" in (t := gateway.download("/templates/quantity_update.csv")) and t,
                          10, "the refreshed template")
    assert template.splitlines()[0] == b"\xef\xbb\xbfSKU,Title,EAST,WEST"   # a UTF-8 BOM for spreadsheets
    west = wait_until(lambda: b"A1,,7" in (t := gateway.download("/templates/quantity_update.csv", "west")) and t,
                      10, "the west account's template")
    assert west.splitlines()[0] == b"\xef\xbb\xbfSKU,Title,WEST"
    assert gateway.download("/templates/quantity_update.xlsx").startswith(b"PK")


def test_partial_uploads_left_by_a_crash_are_quarantined_at_start_and_never_processed(start_ftp, data_dir):
    inbox = data_dir / "ftp" / "east" / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "half.csv").write_bytes(QU[:20])
    (inbox / "half.csv.part").write_bytes(QU[:25])
    (data_dir / "ftp-staging").mkdir()
    (data_dir / "ftp-staging" / "20261126T000000-abcd").write_bytes(QU)

    gateway = start_ftp()
    time.sleep(0.6)

    assert not any(inbox.iterdir())
    quarantined = sorted(p.name for p in (data_dir / "quarantine").iterdir())
    assert len(quarantined) == 3 and any(n.endswith("-east-half.csv") for n in quarantined)
    assert gateway.files() == []


def test_a_stor_whose_data_connection_never_opens_leaves_nothing_behind(gateway):
    ftp = gateway.login()
    ftp.sendcmd("TYPE I")
    ftp.sendcmd("PASV")
    ftp.putcmd("STOR /inbox/never.csv")
    assert ftp.getresp().startswith("150")
    ftp.close()

    wait_until(lambda: not any((gateway.home("east") / "inbox").iterdir()), 10, "the empty upload to go")
    assert gateway.upload(QU, "never.csv").startswith("226")
    [row] = gateway.wait_for_finished_files(1)
    assert row.name == "never.csv"


def test_a_one_warehouse_stock_file_sent_to_a_login_of_several_warehouses_says_how_to_send_it(gateway):
    gateway.upload(b"SKU,QtyOnHand\r\nA1,5\r\n", "stock.csv", "east")   # east writes EAST and WEST

    [row] = gateway.wait_for_finished_files(1)
    report = json.loads(row.report)
    assert row.status == "rejected" and [i["code"] for i in report["issues"]] == ["STOCK_FILE_NEEDS_WAREHOUSE"]
    message = report["issues"][0]["message"]
    assert "column 'QtyOnHand'" in message and "login 'east' writes EAST, WEST" in message
    assert "header SKU,EAST" in message and "the login bound to its warehouse (WEST: 'west')" in message
    assert gateway.on_hand("A1", "EAST") is None and gateway.on_hand("A1", "WEST") is None
