"""Memory of the file shapes that left the whole-file path last: peak RSS at growing row counts.

    python bench/ingest_rest.py [--rows 300000,1000000] [--shapes dryrun,delta,deltadry,full] [--root DIR] [--keep DIR]

For each row count N it builds a catalog of N SKUs x 3 warehouses (MF, EAST, WEST; SQLite, as
bench/ingest.py does), then runs each shape in a child process with the code of --root (default: this
checkout; point it at a `git archive` of another commit to compare) and prints the child's own peak RSS
(VmHWM, not ru_maxrss, which Linux carries over fork and exec from this parent):
  dryrun  `stockgate ingest --dry-run --changes` of an N-row Quantity Update changing 5% of its cells
          (`preview_changes`, the file read from disk, the first 1,000 changes listed);
  delta   an N-row `delta` stock file for MF, every SKU moved by -20..+20 (receive_file + process_file);
  deltadry  `stockgate ingest --dry-run --changes` of that `delta` file (`preview_changes`, the file read
          from disk, the first 1,000 changes listed);
  full    an N-row `full` snapshot for MF naming 9 SKUs in 10 (every tenth SKU, absent, is set to 0),
          every named level changed (receive_file + process_file).
Last lines, one per shape and row count:
    rest[SHAPE]: <rows> rows, <seconds> s, rss <MB> MB
then, per shape, the largest run's peak over the smallest's.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from ingest_data import WAREHOUSES, SqliteStore, catalog_levels, write_shape  # noqa: E402  (bench/ on sys.path)
from own_rss import peak_mb  # noqa: E402

SHAPES = ("dryrun", "delta", "deltadry", "full")
DRY_RUNS = ("dryrun", "deltadry")


def write_stock_file(shape: str, levels: list[list[int]], rows: int, path: Path, seed: int = 13) -> int:
    """The MF stock file of `shape` (SKU, Quantity); how many rows it has."""
    rng = random.Random(seed)
    written = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["SKU", "Quantity"])
        for i in range(rows):
            if shape in ("delta", "deltadry"):
                writer.writerow([f"SKU{i + 1:07d}", rng.randrange(-20, 21) or 1])
            elif i % 10 != 9:   # full: every tenth SKU is absent, so zeroed
                writer.writerow([f"SKU{i + 1:07d}", levels[0][i] + rng.randrange(1, 50)])
            else:
                continue
            written += 1
    return written


def child(root: str, config: str, path: str, shape: str) -> None:
    """In a child process: run the shape with the code of `root`; print the outcome as JSON."""
    sys.path.insert(0, root)
    started = time.perf_counter()
    from gateway.app import App
    from gateway.intake import Delivery

    app = App.from_config(config)
    begun = time.perf_counter()
    if shape in DRY_RUNS:
        from gateway.pipeline import preview_changes

        delivery = (Delivery(name=Path(path).name, transport="cli") if shape == "dryrun" else
                    Delivery(name=Path(path).name, transport="cli", warehouse="MF", mode="delta"))
        try:
            result = preview_changes(app.db, app.settings, delivery, Path(path))
        except (TypeError, AttributeError):   # a checkout whose dry run takes the bytes only
            result = preview_changes(app.db, app.settings, delivery, Path(path).read_bytes())
        report, extra = result.report, {"total_changes": result.total_changes, "shown": len(result.changes)}
    else:
        from gateway.intake import receive_file
        from gateway.pipeline import process_file

        delivery = Delivery(name=Path(path).name, transport="cli", warehouse="MF",
                            mode="delta" if shape == "delta" else "full")
        file_id = receive_file(app.db, app.settings.data_dir, delivery, Path(path))
        report, extra = process_file(app.db, app.settings, file_id), {}
    done = time.perf_counter()
    print(json.dumps({"status": report.status, "rows": report.document["rows"],
                      "changes": report.document["changes"], "issues": len(report.document["issues"]),
                      "seconds": done - begun, "import_s": begun - started, "rss_mb": peak_mb(), **extra}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="300000,1000000", help="comma-separated row counts")
    parser.add_argument("--shapes", default=",".join(SHAPES), help=f"comma-separated, from {', '.join(SHAPES)}")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose code is measured")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    counts = [int(n) for n in args.rows.split(",") if n.strip()]
    shapes = [s for s in args.shapes.split(",") if s.strip()]
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown:
        parser.error(f"unknown shape {', '.join(unknown)}: choose from {', '.join(SHAPES)}")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="sg-bench-rest-"))
    folder.mkdir(parents=True, exist_ok=True)
    root = args.root.resolve()
    load = os.getloadavg()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"code of {root}", flush=True)
    lines, peaks = [], {}
    try:
        for rows in counts:
            store = SqliteStore(folder)
            levels = catalog_levels(rows)
            built = time.perf_counter()
            store.build(f"catalog{rows}", levels)
            print(f"\ncatalog: {rows:,} SKUs x {len(WAREHOUSES)} warehouses [{time.perf_counter() - built:.1f} s]",
                  flush=True)
            for shape in shapes:
                path = folder / f"{shape}{rows}.csv"
                if shape == "dryrun":
                    write_shape("changed5", levels, rows, path)
                else:
                    write_stock_file(shape, levels, rows, path)
                url = store.copy(f"catalog{rows}", f"{shape}{rows}")
                config = folder / f"{shape}{rows}.toml"
                (folder / f"var_{shape}{rows}").mkdir(exist_ok=True)
                config.write_text(f'data_dir = "{folder / f"var_{shape}{rows}"}"\ndatabase_url = "{url}"\n'
                                  "[files]\nmax_file_mb = 4096\n", encoding="utf-8")
                run = subprocess.run([sys.executable, __file__, "--child", str(root), str(config), str(path), shape],
                                     capture_output=True, text=True, check=False,
                                     env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
                if run.returncode:
                    sys.exit(f"{shape} at {rows:,} rows failed:\n{run.stderr[-3000:]}")
                result = json.loads(run.stdout.strip().splitlines()[-1])
                print(f"{shape}: {path.stat().st_size / 1e6:.1f} MB file, status {result['status']}, rows "
                      f"{result['rows']}, changes {result['changes']}, {result['issues']} issues listed"
                      + (f", {result['total_changes']:,} changes ({result['shown']} shown)" if shape in DRY_RUNS else "")
                      + f"; {result['seconds']:.2f} s, peak RSS {result['rss_mb']:.0f} MB", flush=True)
                lines.append(f"rest[{shape}]: {rows:,} rows, {result['seconds']:.2f} s, rss {result['rss_mb']:,.0f} MB")
                peaks.setdefault(shape, []).append(result["rss_mb"])
                store.drop(f"{shape}{rows}")
                path.unlink()
                shutil.rmtree(folder / f"var_{shape}{rows}", ignore_errors=True)
            store.drop(f"catalog{rows}")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    load = os.getloadavg()
    print(f"\nload average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for line in lines:
        print(line)
    for shape, values in peaks.items():
        if len(values) > 1:
            print(f"rest[{shape}]: peak at {counts[-1]:,} rows / at {counts[0]:,} rows = {values[-1] / values[0]:.2f}x")


if __name__ == "__main__":
    main()
