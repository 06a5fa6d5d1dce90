"""Run the real `stockgate serve` as a subprocess for end-to-end tests: a temporary configuration with an
FTP account and two sandbox channels, helpers to upload over FTP and to wait for what the sandboxes show.

The FTP server listens on port 0 (a free port the kernel picks as it binds) and the harness reads the port
back from serve's log line: no port is chosen before the server binds it, so nothing else can take it in
between (a `make run` on 2121, or another test)."""

from __future__ import annotations

import ftplib
import io
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from channels.sandbox_market import SandboxMarketplace, sandbox_path
from gateway.passwords import hash_password

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "e2e-secret"
_hash: list[str] = []


LISTENING = re.compile(r"ftp server listening on 127\.0\.0\.1:(\d+)")


def config_text(data_dir: Path, database_url: str, ftp_port: int = 0, channel_keys: str = "") -> str:
    """Account `wh` writing MF and EAST over FTP (Quantity Update files); sandbox channels `amz` (amazon)
    and `shop` (shopify), both smart, pulling orders every second."""
    if not _hash:
        _hash.append(hash_password(PASSWORD))
    channels = "".join(f'\n[[channels]]\nname = "{name}"\nmarketplace = "{market}"\nadapter = "sandbox"\n'
                       f'restore_policy = "smart"\norder_interval_seconds = 1\npush_interval_seconds = 30\n'
                       f'listing_interval_seconds = 3600\nretry_base_seconds = 0.2\nretry_max_seconds = 1\n'
                       f'{channel_keys}' for name, market in (("amz", "amazon"), ("shop", "shopify")))
    return (f'data_dir = "{data_dir}"\ndatabase_url = "{database_url}"\n'
            f'[ftp]\nhost = "127.0.0.1"\nport = {ftp_port}\npassive_ports = ""\n'
            f'[web]\nenabled = false\n'
            f'[[warehouses]]\ncode = "EAST"\npriority = 2\n'
            f'[[accounts]]\nusername = "wh"\npassword_hash = "{_hash[0]}"\nwarehouses = ["MF", "EAST"]\n'
            f'create_unknown_skus = true\n{channels}')


@dataclass
class Serve:
    """A `stockgate serve` subprocess and what a test does with it; `ftp_port` is the port the running
    server bound (read from its log at `start`)."""

    config: Path
    data_dir: Path
    ftp_port: int                   # 0 until started
    log_path: Path
    process: subprocess.Popen | None = None
    cwd: Path = ROOT                # the folder `serve` runs in (relative paths in the config are taken from it)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "gateway", "--config", str(self.config), *args],
                              capture_output=True, text=True, cwd=self.cwd, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})

    def start(self) -> None:
        env = {**os.environ, "STOCKGATE_LOG_LEVEL": "INFO", "PYTHONPATH": str(ROOT)}
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(self.config), "serve"],
                                        stdout=log, stderr=log, cwd=self.cwd, env=env)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            match = LISTENING.search(self.log()[offset:])
            if match:
                self.ftp_port = int(match[1])
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"serve did not start:\n{self.log()}")

    def stop(self) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def sandbox(self, channel: str, marketplace: str) -> SandboxMarketplace:
        return SandboxMarketplace(sandbox_path(self.data_dir, channel), marketplace)

    def shown(self, channel: str) -> dict[str, int]:
        market = "amazon" if channel == "amz" else "shopify"
        return {l["listing_id"]: l["quantity"] for l in self.sandbox(channel, market).show()["listings"]}

    def upload(self, data: bytes, name: str) -> None:
        with ftplib.FTP() as ftp:
            ftp.connect("127.0.0.1", self.ftp_port, timeout=30)
            ftp.login("wh", PASSWORD)
            ftp.storbinary(f"STOR inbox/{name}", io.BytesIO(data))

    def wait_until(self, predicate, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"serve exited ({self.process.returncode}) waiting for {what}:\n{self.log()}")
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; serve log:\n{self.log()[-4000:]}")
