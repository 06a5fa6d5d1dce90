"""Ingest benchmark: N-row Quantity Updates of three shapes through the real pipeline, each against its floor.

    python bench/ingest.py [--rows N] [--shapes changed5,changed100,first] [--database-url URL]
                           [--orm-rows M] [--xlsx-rows K] [--steps] [--cprofile DIR] [--tracemalloc]
                           [--keep DIR]

Shapes (N SKUs x 3 warehouses; cells = 3N):
  changed5    every SKU known, 5% of the cells differ from the stored levels (the benchmark until now);
  changed100  every SKU known, every cell differs;
  first       an empty catalog, every SKU new and created from the file (create_unknown_skus).
For each shape, on fresh copies of the same database (SQLite files in a temporary folder, or with
--database-url postgresql+psycopg://user@host:port/db databases bench_<random>_* made on that server
and dropped at the end), it runs:
  - the real pipeline (receive_file + process_file: spool, parse, plan, apply with ledger and outbox,
    report, archive) in a child process that reports its peak RSS (--steps: with per-step timers and
    memory, --cprofile DIR: with cProfile, --tracemalloc: the top allocation sites inside the apply);
  - its floor (bench/ingest_floors.py: the same writes, new items, levels and ledger rows, with nothing
    else, set-based; COPY on PostgreSQL) in another child process of this run, right after;
then checks that both wrote the same (items, levels, sum of levels, ledger rows, sum of deltas and rows).
For changed5 it also times a per-row ORM version on a slice and a K-row XLSX parse. The last lines read:
    ingest[SHAPE]: <cells/s> cells/s, floor <cells/s> cells/s, ratio <x>, rss <MB> MB     (one per shape)
    ingest: <cells/s> cells/s, floor <cells/s>, orm <cells/s>, rss <MB> MB                (changed5)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest_data import (  # noqa: E402  (bench/ is the script's folder, first on sys.path)
    SHAPE_TEXT, SHAPES, WAREHOUSES, PostgresStore, SqliteStore, catalog_levels, summary, write_shape,
)
from ingest_floors import POSTGRES_HOW, SQLITE_HOW, postgres_floor, sqlite_floor  # noqa: E402
from ingest_steps import peak_mb  # noqa: E402  (VmHWM: ru_maxrss would carry this parent's size into a child)


def child_pipeline(config: Path, csv_path: Path, args) -> None:
    """In a child process: receive and process the file through the real pipeline; print timings as JSON."""
    started = time.perf_counter()
    from gateway.app import App
    from gateway.intake import Delivery, receive_file
    from gateway.pipeline import process_file

    steps = None
    if args.steps or args.tracemalloc:
        from ingest_steps import Steps

        steps = Steps()
        steps.install()
    snapshots: list[tuple[str, object]] = []
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start()
        for label in ("apply_stock_changes", "outbox enqueue_for_items"):
            steps.hooks[label] = lambda label=label: snapshots.append((label, tracemalloc.take_snapshot()))
    app = App.from_config(str(config))
    imported, imported_cpu = time.perf_counter(), time.process_time()
    options = {"create_unknown_skus": True} if args.shape == "first" else {}
    file_id = receive_file(app.db, app.settings.data_dir, Delivery(name=csv_path.name, transport="cli",
                                                                   options=options), csv_path)
    received = time.perf_counter()
    profiler = None
    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    report = process_file(app.db, app.settings, file_id)
    done, done_cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.disable()
        write_profile(profiler, args.cprofile, args.shape)
    result = {"status": report.status, "rows": report.document["rows"], "changes": report.document["changes"],
              "import_s": imported - started, "receive_s": received - imported, "process_s": done - received,
              "total_s": done - imported, "cpu_s": done_cpu - imported_cpu, "rss_mb": peak_mb()}
    if steps:
        result["steps"] = steps.table()
    if args.tracemalloc:
        import tracemalloc

        result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        result["tracemalloc"] = [f"at entry of {label}: {sum(s.size for s in snap.statistics('filename')) / 2**20:.0f} "
                                 f"MB traced; top sites:" + "".join(
                                     f"\n    {stat.size / 2**20:7.1f} MB {stat.count:>9,} blocks  "
                                     f"{stat.traceback[0].filename.replace(str(ROOT) + '/', '')}:"
                                     f"{stat.traceback[0].lineno}" for stat in snap.statistics("lineno")[:12])
                                 for label, snap in snapshots]
    print(json.dumps(result))


def write_profile(profiler, folder: str, shape: str) -> None:
    """cProfile's stats of the processing as `<shape>.pstats` and the top functions as `<shape>.txt`."""
    import io
    import pstats

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(out / f"{shape}.pstats")
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(40)
    (out / f"{shape}.txt").write_text(text.getvalue(), encoding="utf-8")


def child_floor(kind: str, target: str, csv_path: Path) -> None:
    """In a child process: run the floor; print seconds, ledger rows, seconds per step and peak RSS as JSON."""
    cpu = time.process_time()
    if kind == "sqlite":
        seconds, written, laps = sqlite_floor(Path(target), csv_path)
    else:
        seconds, written, laps = postgres_floor(target, csv_path)
    print(json.dumps({"seconds": seconds, "cpu_s": time.process_time() - cpu, "written": written, "laps": laps,
                      "rss_mb": peak_mb()}))


def run_child(*argv: str) -> dict:
    child = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True, check=False)
    if child.returncode:
        sys.exit(f"the child run {argv[:2]} failed:\n{child.stderr}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def orm(url: str, csv_path: Path, rows: int) -> float:
    """A straightforward per-row ORM implementation on the first `rows` rows; seconds."""
    import csv

    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session, registry

    from gateway.db import schema

    class Item: ...
    class Level: ...
    class Entry: ...

    mapper = registry()
    mapper.map_imperatively(Item, schema.items)
    mapper.map_imperatively(Level, schema.stock_levels)
    mapper.map_imperatively(Entry, schema.ledger)
    engine = create_engine(url)
    started = time.perf_counter()
    with Session(engine) as session, open(csv_path, newline="", encoding="utf-8") as fh:
        wh = {code: session.execute(select(schema.warehouses.c.id).where(schema.warehouses.c.code == code)).scalar()
              for code in WAREHOUSES}
        reader = csv.reader(fh)
        next(reader)
        for n, (sku, _title, *values) in enumerate(reader):
            if n >= rows:
                break
            item = session.execute(select(Item).where(Item.sku == sku)).scalar_one()
            for code, text in zip(WAREHOUSES, values):
                quantity = int(text)
                level = session.get(Level, (item.id, wh[code]))
                if level.on_hand != quantity:
                    session.add(Entry(at=datetime.now(UTC), item_id=item.id, warehouse_id=wh[code],
                                      delta=quantity - level.on_hand, on_hand_after=quantity, cause="file",
                                      file_id="orm", file_row=n + 2))
                    level.on_hand = quantity
                    level.updated_at = datetime.now(UTC)
        session.commit()
    engine.dispose()
    return time.perf_counter() - started


def xlsx_parse(folder: Path, rows: int) -> float:
    """Seconds to parse a `rows`-row Quantity Update XLSX (written with openpyxl first)."""
    from openpyxl import Workbook

    from parsers import parse_file

    path = folder / "update.xlsx"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Stock")
    sheet.append(["SKU", "Title", *WAREHOUSES])
    for i in range(1, rows + 1):
        sheet.append([f"SKU{i:07d}", f"Item {i}", i % 500, (i * 7) % 500, (i * 13) % 500])
    workbook.save(path)
    data = path.read_bytes()
    started = time.perf_counter()
    parsed = parse_file(data, path.name)
    elapsed = time.perf_counter() - started
    assert parsed.valid_rows == rows, parsed.issues[:3]
    return elapsed


def shape_list(text: str) -> list[str]:
    shapes = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown or not shapes:
        raise argparse.ArgumentTypeError(f"unknown shape {', '.join(unknown) or '(none)'}: choose from "
                                         f"{', '.join(SHAPES)}")
    return shapes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--shapes", type=shape_list, default=list(SHAPES),
                        help=f"comma-separated, from {', '.join(SHAPES)} (default: all)")
    parser.add_argument("--database-url", help="postgresql+psycopg://user@host:port/db: run on this PostgreSQL "
                                               "server, in databases of the benchmark's own (default: SQLite)")
    parser.add_argument("--orm-rows", type=int, default=10_000, help="slice timed with the per-row ORM version")
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--steps", action="store_true", help="time and measure the pipeline's steps (a table)")
    parser.add_argument("--cprofile", metavar="DIR", help="profile the processing; stats and top lists in DIR")
    parser.add_argument("--tracemalloc", action="store_true", help="trace allocations (slow): top sites in apply")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--child", nargs=2, metavar=("CONFIG", "CSV"), help=argparse.SUPPRESS)
    parser.add_argument("--child-floor", nargs=3, metavar=("KIND", "TARGET", "CSV"), help=argparse.SUPPRESS)
    parser.add_argument("--shape", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_pipeline(Path(args.child[0]), Path(args.child[1]), args)
        return
    if args.child_floor:
        child_floor(args.child_floor[0], args.child_floor[1], Path(args.child_floor[2]))
        return
    if args.database_url and not args.database_url.startswith("postgresql"):
        parser.error(f"--database-url {args.database_url!r}: only postgresql+psycopg://... URLs "
                     f"(SQLite is the default)")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="sg-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    store = PostgresStore(args.database_url) if args.database_url else SqliteStore(folder)
    try:
        run(folder, store, args)
    finally:
        store.close()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


def run(folder: Path, store, args) -> None:
    rows, cells = args.rows, args.rows * len(WAREHOUSES)
    load = os.getloadavg()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"{os.cpu_count()} CPUs, database {store.kind}")
    print(f"floor ({store.kind}): {POSTGRES_HOW if store.kind == 'postgresql' else SQLITE_HOW}")
    if store.kind == "postgresql":
        print(f"databases: {store.prefix}_* on the server, dropped at the end")
    t = time.perf_counter()
    levels = catalog_levels(rows)
    if any(s != "first" for s in args.shapes):
        store.build("catalog", levels)
    if "first" in args.shapes:
        store.build("empty", None)
    print(f"catalog: {rows:,} SKUs x {len(WAREHOUSES)} warehouses [{time.perf_counter() - t:.1f} s to build]")
    lines, last, cpu_lines = [], None, []
    for shape in args.shapes:
        csv_path = folder / f"{shape}.csv"
        changed = write_shape(shape, levels, rows, csv_path)
        print(f"\n{shape}: {SHAPE_TEXT[shape]}; {changed:,} of {cells:,} cells change "
              f"({csv_path.stat().st_size / 1e6:.1f} MB)")
        template = "empty" if shape == "first" else "catalog"
        url = store.copy(template, f"{shape}_pipeline")
        config = folder / f"{shape}.toml"
        (folder / f"var_{shape}").mkdir(exist_ok=True)   # what `stockgate init` makes
        config.write_text(f'data_dir = "{folder / ("var_" + shape)}"\ndatabase_url = "{url}"\n'
                          '[files]\nmax_file_mb = 4096\n', encoding="utf-8")   # a 3M-row file is over 100 MB
        extra = [*(["--steps"] if args.steps else []), *(["--cprofile", args.cprofile] if args.cprofile else []),
                 *(["--tracemalloc"] if args.tracemalloc else [])]
        result = run_child("--child", str(config), str(csv_path), "--shape", shape, *extra)
        pipeline_s, rss = result["total_s"], result["rss_mb"]
        print(f"pipeline: {pipeline_s:.2f} s (receive {result['receive_s']:.2f} s, process {result['process_s']:.2f} "
              f"s), status {result['status']}, rows {result['rows']}, changes {result['changes']}, "
              f"peak RSS {rss:.0f} MB, CPU {result['cpu_s']:.2f} s")
        for line in result.get("steps", []):
            print("  " + line)
        if "traced_peak_mb" in result:
            print(f"  tracemalloc: traced peak {result['traced_peak_mb']:.0f} MB")
            for block in result["tracemalloc"]:
                print("  " + block)
        floor_url = store.copy(template, f"{shape}_floor")
        target = str(store.path(f"{shape}_floor")) if store.kind == "sqlite" else store.conninfo(
            store.dbname(f"{shape}_floor"))
        floor = run_child("--child-floor", store.kind, target, str(csv_path))
        floor_s = floor["seconds"]
        print(f"floor: {floor_s:.2f} s, {floor['written']:,} ledger rows, peak RSS {floor['rss_mb']:.0f} MB ("
              + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in floor["laps"].items()) + ")")
        mine, theirs = summary(url), summary(floor_url)
        same = mine == theirs
        print(f"same writes: {'yes' if same else 'NO'} (pipeline {mine}, floor {theirs})")
        if not same:
            sys.exit(f"{shape}: the floor did not write what the pipeline wrote")
        rate, floor_rate = cells / pipeline_s, cells / floor_s
        # CPU seconds (the child's own, its threads included): what the work costs, whatever else the machine runs
        cpu_lines.append(f"cpu[{shape}]: pipeline {result['cpu_s']:.2f} s, floor {floor['cpu_s']:.2f} s, "
                         f"ratio {result['cpu_s'] / floor['cpu_s']:.2f}x")
        lines.append(f"ingest[{shape}]: {rate:,.0f} cells/s, floor {floor_rate:,.0f} cells/s, "
                     f"ratio {pipeline_s / floor_s:.2f}x, rss {rss:,.0f} MB")
        if shape == "changed5":
            orm_url = store.copy(template, "changed5_orm")
            orm_rows = min(args.orm_rows, rows)
            orm_s = orm(orm_url, csv_path, orm_rows)
            store.drop("changed5_orm")
            orm_rate = orm_rows * len(WAREHOUSES) / orm_s
            print(f"orm: {orm_s:.2f} s for {orm_rows:,} rows ({rate / orm_rate:.1f}x slower than the pipeline)")
            xlsx_s = xlsx_parse(folder, args.xlsx_rows)
            print(f"xlsx: {args.xlsx_rows:,}-row XLSX parsed in {xlsx_s:.2f} s")
            last = f"ingest: {rate:,.0f} cells/s, floor {floor_rate:,.0f}, orm {orm_rate:,.0f}, rss {rss:,.0f} MB"
        for name in (f"{shape}_pipeline", f"{shape}_floor"):
            store.drop(name)
        csv_path.unlink()
    load = os.getloadavg()
    print(f"\nload average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for line in cpu_lines:
        print(line)
    for line in lines:
        print(line)
    if last:
        print(last)


if __name__ == "__main__":
    main()
