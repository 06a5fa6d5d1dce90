"""FTP hardening against the real server: lockout, the traversal matrix, symlinks, per-account isolation,
per-folder permissions, connection caps and the passive port range."""

from __future__ import annotations

import ftplib
import io
import os
import re
import time

import pytest

from ftp_test_harness import PASSWORDS, snapshot, wait_until

QU = b"SKU,EAST,WEST\r\nA1,5,7\r\n"


def _login_fails(gateway, username, password) -> str:
    ftp = gateway.connect()
    try:
        with pytest.raises(ftplib.error_perm) as refused:
            ftp.login(username, password)
        return str(refused.value)
    finally:
        ftp.close()


def test_an_address_is_locked_out_after_max_failed_logins_even_with_the_right_password(start_ftp):
    gateway = start_ftp(max_failed_logins=3, lockout_minutes=0.02)
    for _ in range(3):
        assert _login_fails(gateway, "east", "wrong").startswith("530")

    refused = _login_fails(gateway, "east", PASSWORDS["east"])
    assert refused.startswith("530") and "Too many failed logins" in refused

    ftp = wait_until(lambda: _try_login(gateway), 15, "the lockout to end")
    assert ftp.pwd() == "/"
    ftp.quit()


def _try_login(gateway):
    ftp = gateway.connect()
    try:
        ftp.login("east", PASSWORDS["east"])
        return ftp
    except ftplib.error_perm:
        ftp.close()
        time.sleep(0.2)
        return None


def test_unknown_user_names_count_towards_the_lockout(start_ftp):
    gateway = start_ftp(max_failed_logins=3, lockout_minutes=5)
    for name in ("nobody", "admin", "root"):
        _login_fails(gateway, name, "guess")

    assert "Too many failed logins" in _login_fails(gateway, "east", PASSWORDS["east"])


def test_anonymous_login_is_refused(gateway):
    assert _login_fails(gateway, "anonymous", "guest@example.com").startswith("530")


ESCAPES = ["../outside.csv", "../../etc/passwd", "..\\outside.csv", "..\\..\\etc\\passwd", "/etc/passwd",
           "/../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd", "inbox/\x00evil.csv", "\uff0e\uff0e/\uff0e\uff0e/etc/passwd",
           "C:\\Windows\\win.ini", "\\\\host\\share\\x.csv", "....//....//etc/passwd", "/inbox/../../west/inbox/x.csv"]


def _refused(action) -> bool:
    try:
        action()
    except ftplib.error_perm:
        return True
    return False


@pytest.mark.parametrize("command", ["STOR", "RETR", "LIST", "CWD", "RNFR", "RNTO", "DELE", "MKD", "SIZE", "MDTM"])
def test_the_traversal_matrix_is_refused_and_nothing_outside_the_home_is_touched(gateway, data_dir, tmp_path, command):
    (data_dir / "ftp" / "west" / "inbox" / "x.csv").write_bytes(b"west's")
    (tmp_path / "outside.csv").write_bytes(b"outside")
    before = snapshot(tmp_path, skip=("stockgate.db", "var/ftp-state", "var/ftp/east"))
    ftp = gateway.login()
    ftp.cwd("/inbox")
    ftp.storbinary("STOR mine.csv.part", io.BytesIO(QU))

    actions = {
        "STOR": lambda p: ftp.storbinary(f"STOR {p}", io.BytesIO(b"SKU,EAST\r\nEVIL,1\r\n")),
        "RETR": lambda p: ftp.retrbinary(f"RETR {p}", lambda _b: None),
        "LIST": lambda p: ftp.retrlines(f"LIST {p}", lambda _l: None),
        "CWD": lambda p: ftp.sendcmd(f"CWD {p}"),
        "RNFR": lambda p: ftp.sendcmd(f"RNFR {p}"),
        "RNTO": lambda p: (ftp.sendcmd("RNFR mine.csv.part"), ftp.sendcmd(f"RNTO {p}")),
        "DELE": lambda p: ftp.sendcmd(f"DELE {p}"),
        "MKD": lambda p: ftp.sendcmd(f"MKD {p}"),
        "SIZE": lambda p: ftp.sendcmd(f"SIZE {p}"),
        "MDTM": lambda p: ftp.sendcmd(f"MDTM {p}"),
    }
    accepted = [path for path in ESCAPES if not _refused(lambda: actions[command](path))]
    assert ftp.pwd() == "/inbox"
    legitimate = {"STOR": "/inbox/ok.csv.tmp", "RETR": "/templates/quantity_update.csv", "LIST": "/reports",
                  "CWD": "/inbox", "SIZE": "/inbox/mine.csv.part", "MDTM": "/inbox/mine.csv.part"}
    if command in legitimate:   # the same command on a path inside the home works: the refusals are real
        assert not _refused(lambda: actions[command](legitimate[command]))
    ftp.quit()

    assert accepted == []
    assert snapshot(tmp_path, skip=("stockgate.db", "var/ftp-state", "var/ftp/east")) == before
    assert set(os.listdir(data_dir / "ftp" / "east" / "inbox")) - {"ok.csv.tmp"} == {"mine.csv.part"}
    assert gateway.files() == []


def test_symbolic_links_in_a_home_are_never_followed(gateway, data_dir, tmp_path):
    (tmp_path / "secret.txt").write_text("outside the home")
    reports = data_dir / "ftp" / "east" / "reports"
    (reports / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (reports / "outside").symlink_to(tmp_path)
    (reports / "dangling").symlink_to(tmp_path / "missing")
    ftp = gateway.login()

    assert _refused(lambda: ftp.retrbinary("RETR /reports/leak.txt", lambda _b: None))
    assert _refused(lambda: ftp.retrlines("LIST /reports/outside", lambda _l: None))
    assert _refused(lambda: ftp.sendcmd("CWD /reports/outside"))
    assert _refused(lambda: ftp.storbinary("STOR /reports/dangling", io.BytesIO(b"x")))
    ftp.quit()
    assert not (tmp_path / "missing").exists()


def test_one_account_cannot_list_or_read_another_accounts_files(gateway):
    gateway.upload(QU, "east-only.csv")
    [row] = gateway.wait_for_finished_files(1)
    report = f"east-only.csv.{row.file_id}.report.json"
    wait_until(lambda: (gateway.home("east") / "reports" / report).exists(), 10, "east's report")

    west = gateway.login("west")
    listed = []
    west.retrlines("LIST /reports", listed.append)
    assert listed == []
    for path in (f"/reports/{report}", f"../east/reports/{report}", f"/../east/reports/{report}"):
        assert _refused(lambda: west.retrbinary(f"RETR {path}", lambda _b: None))
    assert _refused(lambda: west.sendcmd("CWD /../east"))
    assert _refused(lambda: west.sendcmd("CWD /east"))
    west.quit()


def test_only_the_inbox_takes_uploads_and_nothing_is_deleted_or_created_elsewhere(gateway):
    gateway.upload(QU, "stock.csv")
    [row] = gateway.wait_for_finished_files(1)
    report = f"/reports/stock.csv.{row.file_id}.report.json"
    wait_until(lambda: (gateway.home("east") / report.lstrip("/")).exists(), 10, "the report")
    ftp = gateway.login()

    refusals = {
        "STOR into reports": lambda: ftp.storbinary("STOR /reports/x.csv", io.BytesIO(QU)),
        "STOR into templates": lambda: ftp.storbinary("STOR /templates/quantity_update.csv", io.BytesIO(QU)),
        "STOR at the root": lambda: ftp.storbinary("STOR /x.csv", io.BytesIO(QU)),
        "APPE": lambda: ftp.storbinary("APPE /inbox/x.csv", io.BytesIO(QU)),
        "DELE a report": lambda: ftp.sendcmd(f"DELE {report}"),
        "RNFR a report": lambda: ftp.sendcmd(f"RNFR {report}"),
        "MKD in reports": lambda: ftp.sendcmd("MKD /reports/sub"),
        "MKD at the root": lambda: ftp.sendcmd("MKD /sub"),
        "RMD inbox": lambda: ftp.sendcmd("RMD /inbox"),
        "SITE CHMOD": lambda: ftp.sendcmd(f"SITE CHMOD 777 {report}"),
        "STOU": lambda: ftp.storbinary("STOU", io.BytesIO(QU)),
    }
    not_refused = [name for name, action in refusals.items() if not _refused(action)]
    ftp.storbinary("STOR /inbox/draft.csv.tmp", io.BytesIO(QU))
    deleted = ftp.sendcmd("DELE /inbox/draft.csv.tmp")
    ftp.quit()

    assert not_refused == []
    assert deleted.startswith("250")
    assert (gateway.home("east") / report.lstrip("/")).exists()
    assert not any((gateway.home("east") / "inbox").iterdir())


def test_connections_from_one_address_are_capped(start_ftp):
    gateway = start_ftp(max_connections_per_ip=2)
    first, second = gateway.connect(), gateway.connect()
    with pytest.raises(ftplib.error_temp) as refused:
        gateway.connect()
    assert str(refused.value).startswith("421")
    first.close()
    second.close()


def test_passive_replies_advertise_the_masquerade_address_and_a_port_in_the_range(start_ftp):
    gateway = start_ftp(passive_ports="40110-40119", masquerade_address="203.0.113.7")
    ftp = gateway.login()
    for _ in range(5):
        reply = ftp.sendcmd("PASV")
        numbers = [int(n) for n in re.search(r"\((\d+(?:,\d+){5})\)", reply).group(1).split(",")]
        assert numbers[:4] == [203, 0, 113, 7]
        assert 40110 <= numbers[4] * 256 + numbers[5] <= 40119
    ftp.close()
