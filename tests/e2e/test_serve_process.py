"""`stockgate serve` as a real process: files arrive over FTP and are applied; SIGTERM stops it cleanly;
SIGKILL in the middle of applying a large file loses nothing and applies it exactly once after restart."""

from __future__ import annotations

import ftplib
import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.db import schema
from gateway.db.engine import make_database
from gateway.passwords import hash_password
from gateway.stock import ledger_sums

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "e2e-secret"


@pytest.fixture
def serve_config(write_config):
    return write_config(f"""
[ftp]
host = "127.0.0.1"
port = 0
passive_ports = ""
[web]
port = 0
[[warehouses]]
code = "EAST"
[[accounts]]
username = "east"
password_hash = "{hash_password(PASSWORD)}"
warehouses = ["MF", "EAST"]
create_unknown_skus = true
""")


class ServeProcess:
    """`python -m gateway --config CONFIG serve` with stderr in a log file."""

    def __init__(self, config: Path, log: Path):
        self.log = log
        env = {**os.environ, "STOCKGATE_LOG_LEVEL": "INFO"}
        with open(log, "ab") as err:
            self.process = subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(config), "serve"],
                                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=err, env=env)
        self.port = int(self.wait_for_log(r"ftp server listening on 127\.0\.0\.1:(\d+)").group(1))

    def wait_for_log(self, pattern: str, timeout: float = 60) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text(encoding="utf-8", errors="replace")
            match = None
            for match in re.finditer(pattern, text):
                pass
            if match:
                return match
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}:\n{text[-3000:]}")
            time.sleep(0.05)
        raise AssertionError(f"no log line matching {pattern!r}:\n{self.log.read_text()[-3000:]}")

    def upload(self, data: bytes, name: str) -> str:
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", self.port, timeout=60)
        ftp.login("east", PASSWORD)
        reply = ftp.storbinary(f"STOR /inbox/{name}", io.BytesIO(data))
        ftp.quit()
        return reply

    def stop(self, sig=signal.SIGTERM, timeout: float = 60) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout)


def _init(config: Path) -> None:
    subprocess.run([sys.executable, "-m", "gateway", "--config", str(config), "init"], cwd=REPO, check=True,
                   capture_output=True, timeout=120)


def test_serve_applies_a_file_uploaded_over_ftp_and_exits_cleanly_on_sigterm(serve_config, database_url, tmp_path):
    _init(serve_config)
    serve = ServeProcess(serve_config, tmp_path / "serve.log")
    try:
        reply = serve.upload(b"SKU,MF,EAST\r\nA1,4,9\r\n", "e2e.csv")
        file_id = re.search(r"received as file (\S+?)\.", reply).group(1)
        serve.wait_for_log(rf"file processed id={file_id} .*status=applied rows=1")
    finally:
        code = serve.stop(signal.SIGTERM)

    assert code == 0
    log = serve.log.read_text()
    assert f"file received id={file_id} name=e2e.csv transport=ftp account=east" in log
    assert "serve stopped" in log
    db = make_database(database_url)
    with db.read() as conn:
        assert conn.execute(select(schema.files.c.status)).scalars().all() == ["applied"]
    db.dispose()


def _status(db, file_id):
    with db.read() as conn:
        return conn.execute(select(schema.files.c.status).where(schema.files.c.file_id == file_id)).scalar()


def test_serve_killed_while_applying_a_large_file_applies_it_exactly_once_after_restart(serve_config, database_url,
                                                                                       tmp_path):
    rows = 200_000
    content = b"SKU,EAST\r\n" + b"".join(b"K%07d,%d\r\n" % (i, 1 + i % 97) for i in range(rows))
    _init(serve_config)
    db = make_database(database_url)
    serve = ServeProcess(serve_config, tmp_path / "serve.log")
    try:
        reply = serve.upload(content, "large.csv")
        file_id = re.search(r"received as file (\S+?)\.", reply).group(1)
        deadline = time.monotonic() + 60
        while _status(db, file_id) == "received" and time.monotonic() < deadline:
            time.sleep(0.01)
        status_when_killed = _status(db, file_id)
    finally:
        serve.stop(signal.SIGKILL)
    assert status_when_killed == "processing", "the file was not caught being applied; make it larger"

    restarted = ServeProcess(serve_config, tmp_path / "serve.log")
    try:
        restarted.wait_for_log(rf"file processed id={file_id} .*status=applied", timeout=180)
    finally:
        assert restarted.stop(signal.SIGTERM) == 0

    with db.read() as conn:
        files = conn.execute(select(schema.files.c.file_id, schema.files.c.status)).all()
        entries = conn.execute(select(func.count()).select_from(schema.ledger)
                               .where(schema.ledger.c.file_id == file_id)).scalar()
        levels = {(r.item_id, r.warehouse_id): r.on_hand for r in conn.execute(select(schema.stock_levels))}
        sums = ledger_sums(conn)
        total = conn.execute(select(func.sum(schema.stock_levels.c.on_hand))).scalar()
    db.dispose()
    assert [tuple(f) for f in files] == [(file_id, "applied")]
    assert entries == rows
    assert {k: v for k, v in levels.items() if v} == {k: v for k, v in sums.items() if v}
    assert total == sum(1 + i % 97 for i in range(rows))
