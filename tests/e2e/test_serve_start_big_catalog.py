"""`stockgate serve` with a big catalog listens on every port at once: the FTP account templates are written
in the background after the ports answer (200,000 SKUs kept the ports silent while they were written), and
the web page's template is made on request."""

from __future__ import annotations

import ftplib
import http.client
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from big_catalog import insert_catalog
from gateway.passwords import hash_password

ROOT = Path(__file__).resolve().parents[2]
SKUS = 100_000   # its XLSX template takes many seconds to write: long after the ports answer
PASSWORD = "start-secret"


def _wait_for(what: str, found, process: subprocess.Popen, log: Path, timeout: float = 600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        if process.poll() is not None:
            raise AssertionError(f"serve exited waiting for {what}:\n{log.read_text(errors='replace')}")
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text(errors='replace')[-3000:]}")


def _templates(port: int) -> list[str]:
    with ftplib.FTP() as ftp:
        ftp.connect("127.0.0.1", port, timeout=30)
        ftp.login("big", PASSWORD)
        return sorted(name.rsplit("/", 1)[-1] for name in ftp.nlst("/templates"))


@pytest.mark.slow
def test_the_ports_answer_before_the_templates_of_a_big_catalog_are_written(tmp_path, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("start-up order does not depend on the engine: the SQLite run covers it (minutes per engine)")
    config = tmp_path / "stockgate.toml"
    config.write_text(f'data_dir = "{tmp_path / "var"}"\ndatabase_url = "{database_url}"\n'
                      '[ftp]\nhost = "127.0.0.1"\nport = 0\npassive_ports = ""\n[web]\nport = 0\n'
                      f'[[accounts]]\nusername = "big"\npassword_hash = "{hash_password(PASSWORD)}"\n'
                      'warehouses = ["MF"]\n')
    run = [sys.executable, "-m", "gateway", "--config", str(config)]
    assert subprocess.run([*run, "init"], cwd=ROOT, capture_output=True, timeout=120).returncode == 0
    insert_catalog(database_url, SKUS)
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        serve = subprocess.Popen([*run, "serve"], cwd=ROOT, stdout=out, stderr=out,
                                 env={**os.environ, "STOCKGATE_LOG_LEVEL": "INFO"})
    try:
        def ports():
            text = log.read_text(errors="replace")
            ftp = re.search(r"ftp server listening on 127\.0\.0\.1:(\d+)", text)
            web = re.search(r"web page on http://127\.0\.0\.1:(\d+)", text)
            return ftp and web and (int(ftp[1]), int(web[1]))

        ftp_port, web_port = _wait_for("both ports", ports, serve, log, timeout=120)
        listed_at_start = _templates(ftp_port)               # the FTP port answers, a login works ...
        page = http.client.HTTPConnection("127.0.0.1", web_port, timeout=60)
        page.request("GET", "/")
        dashboard = page.getresponse()
        assert dashboard.status == 200                       # ... and so does the web page
        dashboard.read()                                     # the connection is kept open for the next request
        page.request("GET", "/template.csv")                 # its template is made on request
        response = page.getresponse()
        web_template = response.read()
        assert response.status == 200 and web_template.count(b"\n") == SKUS + 1

        assert "quantity_update.xlsx" not in listed_at_start   # not written yet when the ports answered
        listed = _wait_for("the FTP templates", lambda: (names := _templates(ftp_port)) and len(names) == 2 and names,
                           serve, log)
        assert listed == ["quantity_update.csv", "quantity_update.xlsx"]
        with ftplib.FTP() as ftp:
            ftp.connect("127.0.0.1", ftp_port, timeout=30)
            ftp.login("big", PASSWORD)
            lines: list[str] = []
            ftp.retrlines("RETR /templates/quantity_update.csv", lines.append)
        assert len(lines) == SKUS + 1 and lines[0].lstrip("\ufeff").startswith("SKU,")
    finally:
        serve.terminate()
        serve.wait(60)
