"""How long `stockgate serve` takes to listen with a big catalog, and when its FTP templates follow.

Builds N SKUs stocked in MF (inserted set-based, one INSERT ... SELECT each for items and levels) in a
temporary SQLite database (or --database-url), starts the real `stockgate serve` with FTP and the web page
on port 0, and prints the seconds from start until each port answers and until each account template
(CSV, XLSX) is written. Usage: python bench/serve_start.py [--skus 500000] [--database-url URL].
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from big_catalog import insert_catalog  # noqa: E402  (shared with the start-up test)
from gateway.passwords import hash_password  # noqa: E402


def write_config(folder: Path, database_url: str) -> Path:
    config = folder / "stockgate.toml"
    config.write_text(f'data_dir = "{folder / "var"}"\ndatabase_url = "{database_url}"\n'
                      '[ftp]\nhost = "127.0.0.1"\nport = 0\npassive_ports = ""\n[web]\nport = 0\n'
                      f'[[accounts]]\nusername = "bench"\npassword_hash = "{hash_password("bench")}"\n'
                      'warehouses = ["MF"]\n')
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=500_000)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stockgate-serve-start-") as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'stockgate.db'}"
        config = write_config(folder, url)
        run = [sys.executable, "-m", "gateway", "--config", str(config)]
        subprocess.run([*run, "init"], check=True, cwd=ROOT, capture_output=True)
        insert_catalog(url, args.skus)
        templates = folder / "var" / "ftp" / "bench" / "templates"
        log_path = folder / "serve.log"
        with open(log_path, "wb") as log:
            started = time.monotonic()
            serve = subprocess.Popen([*run, "serve"], cwd=ROOT, stdout=log, stderr=log,
                                     env={**os.environ, "STOCKGATE_LOG_LEVEL": "INFO"})
        seen: dict[str, float] = {}
        try:
            while len(seen) < 4 and time.monotonic() - started < 900 and serve.poll() is None:
                text = log_path.read_text(errors="replace")
                for name, pattern in (("ftp", r"ftp server listening on 127\.0\.0\.1:(\d+)"),
                                      ("web", r"web page on http://127\.0\.0\.1:(\d+)")):
                    match = re.search(pattern, text)
                    if name not in seen and match:
                        with socket.create_connection(("127.0.0.1", int(match[1])), timeout=5):
                            seen[name] = time.monotonic() - started
                for fmt in ("csv", "xlsx"):
                    if fmt not in seen and (templates / f"quantity_update.{fmt}").exists():
                        seen[fmt] = time.monotonic() - started
                time.sleep(0.02)
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(60)
            start_up = [line for line in log_path.read_text(errors="replace").splitlines()
                        if re.search(r"serve starting|listening|web page on|serve running", line)]
    print(f"{args.skus:,} SKUs, database {args.database_url or 'sqlite'}: seconds from start")
    for name, label in (("ftp", "FTP port answers"), ("web", "web port answers"), ("csv", "CSV template written"),
                        ("xlsx", "XLSX template written")):
        print(f"  {label:<22} {seen[name]:8.2f}" if name in seen else f"  {label:<22}  not seen")
    print("serve's start-up log lines:", *start_up, sep="\n  ")


if __name__ == "__main__":
    main()
