"""Ordinary FTP clients against a real `stockgate serve` started in a temporary folder with a relative
data_dir: lftp (`cd inbox; put; cd /`, a temporary name then `mv`, its own temp-file mode, and `mirror -R`
of a folder tree) and curl upload files that are all applied, with no 451 and no warning or error line
in the server log."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from gateway.db.engine import make_database
from gateway.passwords import hash_password
from gateway.stock import stock_view
from serve_harness import Serve

PASSWORD = "clients-secret"

pytestmark = pytest.mark.skipif(not (shutil.which("lftp") and shutil.which("curl")),
                                reason="lftp and curl are needed")


def _lftp(port: int, script: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(["lftp", "-u", f"east,{PASSWORD}", "-p", str(port),
                           "-e", f"set ftp:ssl-allow no; set net:max-retries 1; {script}; bye", "127.0.0.1"],
                          capture_output=True, text=True, cwd=cwd, timeout=60)


def test_lftp_and_curl_uploads_are_applied_without_a_451_or_an_error_line(tmp_path, database_url):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    url = database_url if database_url.startswith("postgresql") else "sqlite:///var/stockgate.db"
    config = tmp_path / "stockgate.toml"
    config.write_text(f'data_dir = "var"\ndatabase_url = "{url}"\n[ftp]\nhost = "127.0.0.1"\nport = 0\n'
                      f'passive_ports = ""\n[web]\nenabled = false\n[[warehouses]]\ncode = "EAST"\n'
                      f'[[accounts]]\nusername = "east"\npassword_hash = "{hash_password(PASSWORD)}"\n'
                      f'warehouses = ["EAST"]\ncreate_unknown_skus = true\n')
    serve = Serve(config, run_dir / "var", 0, tmp_path / "serve.log", cwd=run_dir)
    assert serve.cli("init").returncode == 0
    expected = {"L1": 101, "L2": 102, "L3": 103, "T1": 41, "U1": 51, "C1": 61, "M1": 71, "M2": 72}
    for sku, qty in expected.items():
        (tmp_path / f"{sku.lower()}.csv").write_bytes(f"SKU,Quantity\r\n{sku},{qty}\r\n".encode())
    (tmp_path / "tree" / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "m1.csv").rename(tmp_path / "tree" / "sub" / "m1.csv")
    (tmp_path / "m2.csv").rename(tmp_path / "tree" / "sub" / "deeper" / "m2.csv")
    serve.start()
    port = serve.ftp_port
    try:
        runs = [
            _lftp(port, "cd inbox; put l1.csv; cd /; cd inbox; put l2.csv; put l3.csv; cd /", tmp_path),
            _lftp(port, "cd inbox; put t1.csv -o t1.csv.part; mv t1.csv.part t1.csv; cd /", tmp_path),
            _lftp(port, "set xfer:use-temp-file yes; cd inbox; put u1.csv; cd /", tmp_path),
            _lftp(port, "mirror -R tree /inbox", tmp_path),
            subprocess.run(["curl", "-sS", "-T", "c1.csv", f"ftp://east:{PASSWORD}@127.0.0.1:{port}/inbox/"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=60),
        ]
        db = make_database(url if url.startswith("postgresql") else f"sqlite:///{run_dir / 'var' / 'stockgate.db'}")
        levels = serve.wait_until(lambda: (got := _levels(db, expected)) == expected and got, 60,
                                  "every upload applied")
        db.dispose()
    finally:
        serve.stop()

    assert [(run.returncode, run.stderr) for run in runs] == [(0, "")] * 5
    assert levels == expected
    noisy = [line for line in serve.log().splitlines() if re.search(r" (WARNING|ERROR|CRITICAL) |Traceback| 451 ",
                                                                      line)]
    assert noisy == []


def _levels(db, expected: dict[str, int]) -> dict[str, int]:
    with db.read() as conn:
        return {item["sku"]: item["warehouses"].get("EAST") for item in stock_view(conn, list(expected))}
