"""Latency from an FTP upload to both sandbox channels showing every new quantity, through a real `serve`.

Starts `stockgate serve` as a subprocess with a temporary configuration (two sandbox channels, one FTP
account), lists N SKUs on both sandboxes, lets the first import settle, then uploads an N-row Quantity
Update over FTP R times and measures from the end of each upload until both sandboxes hold every new
quantity. Last line: `latency: p50 <s> s, p95 <s> s`. Usage: python bench/latency.py [--skus 1000]
[--rounds 20] [--database-url URL].
"""

from __future__ import annotations

import argparse
import ftplib
import io
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from channels.sandbox_market import SandboxMarketplace, sandbox_path  # noqa: E402
from gateway.passwords import hash_password  # noqa: E402

CHANNELS = (("amz", "amazon"), ("shop", "shopify"))


LISTENING = re.compile(r"ftp server listening on 127\.0\.0\.1:(\d+)")


def listening_port(log: Path, process: subprocess.Popen) -> int:
    """The port `serve` bound (FTP on port 0: a free one the kernel picks), read from its log line."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        match = LISTENING.search(log.read_text(errors="replace"))
        if match:
            return int(match[1])
        if process.poll() is not None:
            sys.exit("serve exited before it listened")
        time.sleep(0.05)
    sys.exit("timed out waiting for serve to listen")


def write_config(folder: Path, database_url: str) -> Path:
    channels = "".join(f'[[channels]]\nname = "{n}"\nmarketplace = "{m}"\nadapter = "sandbox"\n'
                       "push_interval_seconds = 60\norder_interval_seconds = 60\nlisting_interval_seconds = 3600\n"
                       for n, m in CHANNELS)
    config = folder / "stockgate.toml"
    config.write_text(f'data_dir = "{folder / "var"}"\ndatabase_url = "{database_url or ""}"\n'
                      f'[ftp]\nhost = "127.0.0.1"\nport = 0\npassive_ports = ""\n[web]\nenabled = false\n'
                      '[[warehouses]]\ncode = "EAST"\n'
                      f'[[accounts]]\nusername = "bench"\npassword_hash = "{hash_password("bench")}"\n'
                      f'warehouses = ["MF", "EAST"]\n{channels}')
    if not database_url:
        config.write_text(config.read_text().replace('database_url = ""\n', ""))
    return config


def wait_until(predicate, timeout: float, what: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process.poll() is not None:
            sys.exit(f"serve exited while waiting for {what}")
        time.sleep(0.02)
    sys.exit(f"timed out waiting for {what}")


def shows(markets: list[SandboxMarketplace], expected: dict[str, int]) -> bool:
    for market in markets:
        listings = market.state.read()["listings"]
        if any(listings[f"L-{sku}"]["pushed"] != qty for sku, qty in expected.items()):
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stockgate-latency-") as tmp:
        folder = Path(tmp)
        config = write_config(folder, args.database_url)
        run = [sys.executable, "-m", "gateway", "--config", str(config)]
        subprocess.run([*run, "init"], check=True, cwd=ROOT, capture_output=True)
        skus = [f"SKU-{n:05d}" for n in range(args.skus)]
        markets = [SandboxMarketplace(sandbox_path(folder / "var", name), market) for name, market in CHANNELS]
        for market in markets:
            market.add_listings([(f"L-{sku}", sku, 10, None, None) for sku in skus])
        log = open(folder / "serve.log", "wb")
        serve = subprocess.Popen([*run, "serve"], cwd=ROOT, stdout=log, stderr=log,
                                 env={**os.environ, "PYTHONPATH": str(ROOT), "STOCKGATE_LOG_LEVEL": "INFO"})
        try:
            port = listening_port(folder / "serve.log", serve)
            wait_until(lambda: shows(markets, {s: 10 for s in skus}), 120, "the first import", serve)
            latencies = []
            for r in range(1, args.rounds + 1):
                expected = {sku: (n * 7 + r * 13) % 97 + 1 for n, sku in enumerate(skus)}
                body = "SKU,MF\r\n" + "".join(f"{sku},{qty}\r\n" for sku, qty in expected.items())
                with ftplib.FTP() as ftp:
                    ftp.connect("127.0.0.1", port, timeout=30)
                    ftp.login("bench", "bench")
                    ftp.storbinary(f"STOR inbox/round-{r:02d}.csv", io.BytesIO(body.encode()))
                    uploaded = time.monotonic()
                wait_until(lambda: shows(markets, expected), 120, f"round {r}", serve)
                latencies.append(time.monotonic() - uploaded)
                print(f"round {r:2d}: {latencies[-1]:.3f} s", flush=True)
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(60)
            log.close()
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"{args.skus} SKUs x {len(CHANNELS)} sandbox channels, {len(ordered)} uploads, "
          f"database {args.database_url or 'sqlite'}; max {ordered[-1]:.3f} s")
    print(f"latency: p50 {p50:.2f} s, p95 {p95:.2f} s")


if __name__ == "__main__":
    main()
