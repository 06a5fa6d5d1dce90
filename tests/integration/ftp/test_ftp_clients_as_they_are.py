"""FTP clients as they are (issue 10, point 17), against the real server with ftplib, curl and lftp: FEAT
and HELP name only what works; APPE and resumed uploads are refused saying why; SITE CHMOD and MFMT
after an upload are answered and change nothing; a STOR outside the inbox names /inbox; sub-folders of
the inbox (lftp `mirror -R` of a folder tree) are processed like the inbox itself."""

from __future__ import annotations

import ftplib
import io
import json
import logging
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from ftp_test_harness import PASSWORDS, wait_until

QU = b"SKU,EAST,WEST\r\nA1,5,7\r\n"
LFTP = shutil.which("lftp")
CURL = shutil.which("curl")
needs_lftp = pytest.mark.skipif(LFTP is None, reason="lftp is not installed (apt-get install lftp)")
needs_curl = pytest.mark.skipif(CURL is None, reason="curl is not installed")


def _qu(sku: str, east: int) -> bytes:
    return f"SKU,EAST,WEST\r\n{sku},{east},1\r\n".encode()


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _inbox_files(gateway, username="east") -> list[str]:
    inbox = gateway.home(username) / "inbox"
    return sorted(p.relative_to(inbox).as_posix() for p in inbox.rglob("*") if not p.is_dir())


def _error(action) -> str:
    with pytest.raises(ftplib.error_perm) as refused:
        action()
    return str(refused.value)


# --- what the server says it can do


def test_feat_lists_only_features_that_work_and_each_of_them_does(gateway):
    gateway.upload(QU, "first.csv")
    gateway.wait_for_finished_files(1)
    template = gateway.download("/templates/quantity_update.csv")
    ftp = gateway.login()
    features = {line.strip() for line in ftp.sendcmd("FEAT").splitlines()[1:-1]}

    names = {feature.split(" ")[0] for feature in features}
    assert names == {"EPRT", "EPSV", "MDTM", "MLST", "REST", "SIZE", "TVFS", "UTF8"}
    assert "MFMT" not in names                                   # a time sent for an upload is not kept
    assert "REST STREAM" in features
    # every advertised feature works
    assert ftp.sendcmd("OPTS UTF8 ON").startswith("200")
    assert ftp.sendcmd("CWD /templates").startswith("250")   # TVFS: absolute / paths
    assert ftp.sendcmd("MDTM quantity_update.csv").startswith("213")
    ftp.voidcmd("TYPE I")                                      # SIZE is for binary transfers
    assert ftp.sendcmd("SIZE quantity_update.csv") == f"213 {len(template)}"
    assert ftp.sendcmd("MLST quantity_update.csv").startswith("250")
    tail = io.BytesIO()
    ftp.retrbinary("RETR quantity_update.csv", tail.write, rest=5)     # REST STREAM: a resumed download
    assert tail.getvalue() == template[5:]
    assert _listing_over(ftp, "EPSV") == _listing_over(ftp, "EPRT") == ["quantity_update.csv", "quantity_update.xlsx"]
    ftp.quit()


def _listing_over(ftp: ftplib.FTP, command: str) -> list[str]:
    """NLST of /templates over a data connection opened with EPSV (passive) or EPRT (active)."""
    if command == "EPSV":
        port = int(ftp.sendcmd("EPSV").split("|")[3])
        ftp.putcmd("NLST /templates")
        data = socket.create_connection(("127.0.0.1", port), timeout=20)
    else:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(20)
        assert ftp.sendcmd(f"EPRT |1|127.0.0.1|{listener.getsockname()[1]}|").startswith("200")
        ftp.putcmd("NLST /templates")
        data = listener.accept()[0]
        listener.close()
    assert ftp.getresp()[:3] in ("125", "150")
    with data, data.makefile("rb") as lines:
        names = sorted(line.decode().strip() for line in lines)
    assert ftp.getresp().startswith("226")
    return names


def test_help_lists_no_command_that_is_always_refused(gateway):
    ftp = gateway.connect()
    listed = set(" ".join(ftp.sendcmd("HELP").splitlines()[1:-1]).split())
    why = ftp.sendcmd("HELP APPE")
    ftp.quit()

    assert not {"APPE", "STOU"} & listed
    assert {"STOR", "RETR", "LIST", "MKD", "RMD", "RNFR", "RNTO", "DELE", "MFMT", "SITE", "REST"} <= listed
    assert why.startswith("214") and "upload the whole file again" in why


# --- refusals that say why


def test_appe_and_a_resumed_stor_are_refused_saying_upload_the_whole_file_again(gateway, caplog):
    ftp = gateway.login()
    ftp.cwd("/inbox")
    appended = _error(lambda: ftp.storbinary("APPE stock.csv", io.BytesIO(QU)))
    resumed = _error(lambda: ftp.storbinary("STOR stock.csv", io.BytesIO(QU[10:]), rest=10))
    resumed_part = _error(lambda: ftp.storbinary("STOR stock.csv.part", io.BytesIO(QU[10:]), rest=10))
    whole = ftp.storbinary("STOR stock.csv", io.BytesIO(QU))      # the same session then sends the whole file
    ftp.quit()

    for reply in (appended, resumed, resumed_part):
        assert "upload the whole file again" in reply, reply
    assert appended.startswith("502") and resumed.startswith("554")
    assert whole.startswith("226")
    [row] = gateway.wait_for_finished_files(1)
    assert (row.name, row.status, gateway.on_hand("A1", "EAST")) == ("stock.csv", "applied", 5)
    assert _inbox_files(gateway) == []


def test_a_stor_outside_the_inbox_is_refused_with_a_reply_naming_inbox(gateway):
    ftp = gateway.login()
    replies = {path: _error(lambda p=path: ftp.storbinary(f"STOR {p}", io.BytesIO(QU)))
               for path in ("/stock.csv", "/reports/stock.csv", "/templates/quantity_update.csv", "stock.csv",
                            "/inbox")}
    ftp.quit()

    assert {path: reply[:3] for path, reply in replies.items()} == dict.fromkeys(replies, "553")
    assert all("/inbox/NAME" in reply for reply in replies.values()), replies
    assert gateway.files() == []
    assert not (gateway.home("east") / "stock.csv").exists()


@needs_curl
def test_curl_to_the_root_is_told_to_use_inbox(gateway, tmp_path):
    (tmp_path / "stock.csv").write_bytes(QU)
    run = subprocess.run([CURL, "-sS", "-v", "-T", "stock.csv", f"ftp://east:{PASSWORDS['east']}@127.0.0.1:"
                          f"{gateway.port}/"], capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert run.returncode != 0
    assert "553 Uploads go to /inbox" in run.stderr
    assert gateway.files() == []


# --- what clients send after an upload


def test_site_chmod_and_mfmt_after_an_upload_are_accepted_and_change_nothing(gateway, caplog):
    ftp = gateway.login()
    ftp.cwd("/inbox")
    ftp.storbinary("STOR done.csv", io.BytesIO(_qu("D1", 4)))
    ftp.storbinary("STOR half.csv.part", io.BytesIO(_qu("H1", 6)))
    part = gateway.home("east") / "inbox" / "half.csv.part"
    before = part.stat()
    replies = [ftp.sendcmd("MFMT 20240102030405 done.csv"), ftp.sendcmd("SITE CHMOD 644 done.csv"),
               ftp.sendcmd("MFMT 20240102030405 half.csv.part"), ftp.sendcmd("SITE CHMOD 600 half.csv.part"),
               ftp.sendcmd("SITE CHMOD 755 /inbox")]
    after = part.stat()
    renamed = ftp.rename("half.csv.part", "half.csv")     # still the whole upload: its time was not changed
    outside = _error(lambda: ftp.sendcmd("SITE CHMOD 777 /templates/quantity_update.csv"))
    ftp.quit()

    assert [reply[:3] for reply in replies] == ["213", "200", "213", "200", "200"]
    assert (after.st_mtime_ns, after.st_mode) == (before.st_mtime_ns, before.st_mode)
    assert renamed.startswith("250")
    assert outside.startswith("550")
    rows = gateway.wait_for_finished_files(2)
    assert sorted((r.name, r.status) for r in rows) == [("done.csv", "applied"), ("half.csv", "applied")]
    assert (gateway.on_hand("D1", "EAST"), gateway.on_hand("H1", "EAST")) == (4, 6)
    assert _warnings(caplog) == []


# --- sub-folders of the inbox


def test_files_in_sub_folders_of_the_inbox_are_processed_named_by_their_path(gateway, caplog):
    ftp = gateway.login()
    created = [ftp.mkd("/inbox/east"), ftp.mkd("/inbox/east/2026-11")]
    ftp.cwd("/inbox/east/2026-11")
    stored = ftp.storbinary("STOR stock.csv", io.BytesIO(_qu("S1", 11)))
    ftp.storbinary("STOR /inbox/east/late.csv.part", io.BytesIO(_qu("S2", 12)))
    renamed = ftp.rename("/inbox/east/late.csv.part", "/inbox/east/late.csv")
    listed = ftp.nlst("/inbox")
    ftp.quit()

    assert created == ["/inbox/east", "/inbox/east/2026-11"]
    assert stored.startswith("226") and renamed.startswith("250")
    rows = gateway.wait_for_finished_files(2)
    assert [(r.name, r.status) for r in rows] == [("east/2026-11/stock.csv", "applied"), ("east/late.csv", "applied")]
    assert (gateway.on_hand("S1", "EAST"), gateway.on_hand("S2", "EAST")) == (11, 12)
    report = f"stock.csv.{rows[0].file_id}.report.json"           # reports stay in /reports, by file name
    wait_until(lambda: (gateway.home("east") / "reports" / report).exists(), 10, "the report")
    assert json.loads(gateway.download(f"/reports/{report}"))["name"] == "east/2026-11/stock.csv"
    assert [name.rsplit("/", 1)[-1] for name in listed] == ["east"]  # the folders stay; no file is left
    assert _inbox_files(gateway) == []
    assert _warnings(caplog) == []


def test_sub_folders_have_a_depth_limit_and_are_removed_only_when_empty(gateway):
    ftp = gateway.login()
    path = "/inbox"
    for level in range(1, 9):
        path += f"/d{level}"
        ftp.mkd(path)
    too_deep = _error(lambda: ftp.mkd(path + "/d9"))
    ftp.storbinary(f"STOR {path}/deepest.csv", io.BytesIO(_qu("Z1", 3)))
    ftp.storbinary("STOR /inbox/d1/wip.csv.part", io.BytesIO(QU))
    not_empty = _error(lambda: ftp.rmd("/inbox/d1"))
    folder_renamed = _error(lambda: ftp.sendcmd("RNFR /inbox/d1"))
    again = _error(lambda: ftp.mkd("/inbox/d1"))
    ftp.sendcmd("RNFR /inbox/d1/wip.csv.part")
    nowhere = _error(lambda: ftp.sendcmd("RNTO /inbox/nowhere/wip.csv"))
    ftp.delete("/inbox/d1/wip.csv.part")
    for level in range(8, 0, -1):
        ftp.rmd(path)
        path = path.rsplit("/", 1)[0]
    ftp.quit()

    assert too_deep.startswith("550")
    assert not_empty.startswith("550") and folder_renamed.startswith("550") and "already exists" in again
    assert nowhere.startswith("550") and "does not exist" in nowhere
    [row] = gateway.wait_for_finished_files(1)
    assert (row.name, row.status) == ("d1/d2/d3/d4/d5/d6/d7/d8/deepest.csv", "applied")
    assert not any((gateway.home("east") / "inbox").iterdir())


def test_partial_uploads_left_in_sub_folders_by_a_crash_are_quarantined_at_start(start_ftp, data_dir):
    inbox = data_dir / "ftp" / "east" / "inbox"
    (inbox / "sub" / "deeper").mkdir(parents=True)
    (inbox / "sub" / "half.csv").write_bytes(QU[:12])
    (inbox / "sub" / "deeper" / "half.csv.part").write_bytes(QU[:14])

    gateway = start_ftp()
    wait_until(lambda: not _inbox_files(gateway), 10, "the sub-folders' partial uploads to be quarantined")

    quarantined = sorted(p.name.split("-", 2)[2] for p in (data_dir / "quarantine").iterdir())   # <time>-<tag>-...
    assert quarantined == ["east-sub_deeper_half.csv.part", "east-sub_half.csv"]
    assert (inbox / "sub" / "deeper").is_dir()
    assert gateway.files() == []


@needs_curl
def test_curl_with_ftp_create_dirs_uploads_into_a_sub_folder(gateway, tmp_path):
    (tmp_path / "nightly.csv").write_bytes(_qu("C1", 21))
    run = subprocess.run([CURL, "-sS", "--ftp-create-dirs", "-T", "nightly.csv",
                          f"ftp://east:{PASSWORDS['east']}@127.0.0.1:{gateway.port}/inbox/erp/nightly/"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert (run.returncode, run.stderr) == (0, "")
    [row] = gateway.wait_for_finished_files(1)
    assert (row.name, row.status, gateway.on_hand("C1", "EAST")) == ("erp/nightly/nightly.csv", "applied", 21)


def _lftp(port: int, script: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([LFTP, "-u", f"east,{PASSWORDS['east']}", "-p", str(port), "-e",
                           f"set ftp:ssl-allow no; set net:max-retries 1; set cmd:fail-exit yes; {script}; bye",
                           "127.0.0.1"], capture_output=True, text=True, cwd=cwd, timeout=120)


@needs_lftp
def test_lftp_mirror_reverse_of_a_folder_tree_exits_0_and_every_file_is_processed(gateway, tmp_path, caplog):
    tree = tmp_path / "outbound"
    files = {"top.csv": ("T1", 1), "east/a.csv": ("A1", 2), "east/2026/b.csv": ("B1", 3),
             "west/c.csv": ("C1", 4), "west/empty-folder/.keep.tmp": None}
    for name, row in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_bytes(_qu(*row) if row else b"")
    second = tmp_path / "second"
    (second / "sub").mkdir(parents=True)
    (second / "sub" / "d.csv").write_bytes(_qu("D1", 5))

    plain = _lftp(gateway.port, "mirror -R outbound /inbox", tmp_path)
    with_temp_files = _lftp(gateway.port, "set xfer:use-temp-file yes; mirror -R second /inbox/second", tmp_path)

    assert (plain.returncode, plain.stderr) == (0, "")
    assert (with_temp_files.returncode, with_temp_files.stderr) == (0, "")
    rows = gateway.wait_for_finished_files(5)
    assert sorted((r.name, r.status) for r in rows) == [
        ("east/2026/b.csv", "applied"), ("east/a.csv", "applied"), ("second/sub/d.csv", "applied"),
        ("top.csv", "applied"), ("west/c.csv", "applied")]
    assert [gateway.on_hand(sku, "EAST") for sku in ("T1", "A1", "B1", "C1", "D1")] == [1, 2, 3, 4, 5]
    assert _inbox_files(gateway) == ["west/empty-folder/.keep.tmp"]   # a temporary name waits, as in /inbox
    assert _warnings(caplog) == []
    assert not os.listdir(Path(gateway.settings.data_dir) / "ftp-staging")
