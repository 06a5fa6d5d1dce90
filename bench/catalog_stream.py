"""Big-catalogue benchmark: time and peak RSS of what reads the whole catalog, each in its own process.

    python bench/catalog_stream.py [--skus 1000000] [--root DIR] [--keep DIR] [--database-url URL] [--only NAMES]

Builds (set-based: one INSERT ... SELECT for the items, one for the levels, no row through Python) a
catalog of N SKUs (`SKU-1000001` ..., each titled `Item <n>`) stocked in 3 warehouses (MF, EAST, WEST), in
a SQLite database in a temporary folder (or --keep DIR, reused when it is there; or --database-url, an
empty PostgreSQL database). Then runs, with the code of --root (default: this checkout; point it at
another checkout, e.g. `git archive main`, to compare), each in a child process:
  - template_csv / template_xlsx: `stockgate template -o FILE` (every warehouse);
  - stock_json: `stockgate stock --json` into a file;
  - web_first / web_last: the real web server (routes as `serve` runs them) in the child, one GET of
    /stock and one of its last page, over HTTP;
  - web_export: GET /stock.csv, the inventory as CSV (only where the checkout has it).
and prints one line each: seconds, the child's own peak RSS (VmHWM, written by the child as it exits;
not wait4's ru_maxrss, which Linux carries over fork and exec) and the size of what came out.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from own_rss import own_peak_argv, read_peak  # noqa: E402  (bench/ is the script's folder, first on sys.path)
WAREHOUSES = ("MF", "EAST", "WEST")

_BUILD = r"""
import sys
from datetime import UTC, datetime
from sqlalchemy import DateTime, bindparam, text
from gateway.db.engine import make_database
db = make_database(sys.argv[1])
count = int(sys.argv[2])
now = bindparam("now", datetime.now(UTC), type_=DateTime(timezone=True))
with db.write() as conn:
    conn.execute(text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
                      "INSERT INTO items (sku, title, created_at) "
                      "SELECT 'SKU-' || (1000000 + i), 'Item ' || i, :now FROM n")
                 .bindparams(now, count=count))
    conn.execute(text("INSERT INTO stock_levels (item_id, warehouse_id, on_hand, updated_at) "
                      "SELECT items.id, warehouses.id, (items.id * 7 + warehouses.id) % 50, :now "
                      "FROM items, warehouses").bindparams(now))
db.dispose()
"""

def _web_script() -> str:
    """A child that starts the web server the way `serve` builds it and GETs one URL into a file."""
    return r"""
import sys, urllib.request
from gateway.settings import load_settings
from gateway.db.engine import make_database
from gateway.web.server import WebServer
settings = load_settings(sys.argv[1])
db = make_database(settings.database_url)
server = WebServer(db, settings)
server.start()
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{sys.argv[2]}", timeout=3600) as answer, \
            open(sys.argv[3], "wb") as out:
        while chunk := answer.read(1 << 16):
            out.write(chunk)
finally:
    server.stop()
    db.dispose()
"""


def run_child(argv: list[str], root: Path, stdout_path: Path | None = None) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit status) of one child process run from `root`."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    hwm = Path(tempfile.mkstemp(prefix="sg-hwm-")[1])
    try:
        started = time.monotonic()
        child = subprocess.Popen(own_peak_argv(hwm, argv), cwd=root, stdout=out, stderr=subprocess.PIPE,
                                 env={**os.environ, "PYTHONPATH": str(root)})
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.monotonic() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        err = child.stderr.read().decode(errors="replace")
        child.stderr.close()
    finally:
        if stdout_path:
            out.close()
    own = read_peak(hwm)   # the child's own VmHWM; wait4's ru_maxrss starts at this parent's size
    hwm.unlink(missing_ok=True)
    if child.returncode:
        sys.stderr.write(f"{' '.join(argv[2:])}: exit {child.returncode}\n{err[-2000:]}\n")
    return seconds, own if own is not None else usage.ru_maxrss / 1024, child.returncode


def build(folder: Path, database_url: str, skus: int, root: Path) -> Path:
    config = folder / "stockgate.toml"
    marker = folder / f"built-{skus}"
    config.write_text(f'data_dir = "{folder / "var"}"\ndatabase_url = "{database_url}"\n[web]\nport = 0\n')
    if marker.exists():
        return config
    cli = [sys.executable, "-m", "gateway", "--config", str(config)]
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run([*cli, "init"], check=True, cwd=root, capture_output=True, env=env)
    for code in WAREHOUSES[1:]:
        subprocess.run([*cli, "warehouses", "add", code], check=True, cwd=root, capture_output=True, env=env)
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", _BUILD, database_url, str(skus)], check=True, cwd=root, env=env)
    print(f"built {skus:,} SKUs x {len(WAREHOUSES)} warehouses in {time.monotonic() - started:.1f} s", flush=True)
    marker.touch()
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=1_000_000)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose code is measured")
    parser.add_argument("--keep", type=Path, help="build the catalog here and reuse it next time")
    parser.add_argument("--database-url", default="", help="an empty database (default: SQLite in the folder)")
    parser.add_argument("--only", default="", help="comma-separated names of the measurements to run")
    args = parser.parse_args()
    root = args.root.resolve()
    per_page = 50
    last_page = max(1, -(-args.skus // per_page))
    with tempfile.TemporaryDirectory(prefix="stockgate-catalog-") as tmp:
        folder = args.keep.resolve() if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        url = args.database_url or f"sqlite:///{folder / 'stockgate.db'}"
        config = build(folder, url, args.skus, root)
        out = Path(tmp)
        cli = [sys.executable, "-m", "gateway", "--config", str(config)]
        web = [sys.executable, "-c", _web_script(), str(config)]
        runs = {
            "template_csv": ([*cli, "template", "-o", str(out / "t.csv")], out / "t.csv", None),
            "template_xlsx": ([*cli, "template", "-o", str(out / "t.xlsx")], out / "t.xlsx", None),
            "stock_json": ([*cli, "stock", "--json"], out / "stock.json", out / "stock.json"),
            "web_first": ([*web, "/stock", str(out / "first.html")], out / "first.html", None),
            "web_last": ([*web, f"/stock?page={last_page}", str(out / "last.html")], out / "last.html", None),
            "web_export": ([*web, "/stock.csv", str(out / "stock.csv")], out / "stock.csv", None),
        }
        only = [name for name in args.only.split(",") if name] or list(runs)
        print(f"{args.skus:,} SKUs x {len(WAREHOUSES)} warehouses, database {args.database_url or 'sqlite'}, "
              f"code of {root}, load average {os.getloadavg()[0]:.2f}", flush=True)
        for name in only:
            argv, result, stdout_path = runs[name]
            seconds, rss, status = run_child(argv, root, stdout_path)
            size = result.stat().st_size if result.exists() else 0
            outcome = "ok" if status == 0 else f"failed (exit {status})"
            print(f"{name:<14} {seconds:8.2f} s  peak RSS {rss:8.1f} MB  output {size / 1e6:8.1f} MB  {outcome}",
                  flush=True)
            result.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
