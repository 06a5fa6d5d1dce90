"""Ingest benchmark: an N-row Quantity Update (3 warehouses, 5% of cells changed) through the real pipeline.

    python bench/ingest.py [--rows N] [--orm-rows M] [--xlsx-rows K] [--keep DIR]

Builds N SKUs x 3 warehouses in a temporary SQLite database, then times, each on its own copy:
  - the real pipeline (receive_file + process_file: spool, parse, plan, apply with ledger, report) in a
    child process, whose peak RSS is measured;
  - a raw sqlite3 floor over the same file: csv rows into a TEMP table, one join for the differing rows,
    a set-based upsert (no ledger, no report, no validation); and, for reference, the earlier floor
    (bulk reads into dicts, a Python diff, executemany upsert);
  - a straightforward per-row ORM implementation (a query per SKU and per level) on a slice;
and the parse of a K-row XLSX. The last line reads:
    ingest: <cells/s> cells/s, floor <cells/s>, orm <cells/s>, rss <MB> MB
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from itertools import chain, islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WAREHOUSES = ("MF", "EAST", "WEST")
CHANGED = 0.05


def build_catalog(db_path: Path, rows: int, seed: int = 7) -> None:
    """Migrate a fresh database and fill it with `rows` items and a level in every warehouse."""
    from gateway.db.engine import make_database
    from gateway.db.migrate import ensure_default_warehouse, upgrade

    db = make_database(f"sqlite:///{db_path}", create=True)
    upgrade(db)
    ensure_default_warehouse(db)
    db.dispose()
    rng = random.Random(seed)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA journal_mode=WAL")
    for priority, code in enumerate(WAREHOUSES[1:], 1):
        con.execute("INSERT INTO warehouses (code, name, kind, priority, sellable, created_at) VALUES (?,?,?,?,?,?)",
                    (code, code, "merchant", priority, 1, now))
    con.executemany("INSERT INTO items (id, sku, title, created_at) VALUES (?,?,?,?)",
                    ((i, f"SKU{i:07d}", f"Item {i}", now) for i in range(1, rows + 1)))
    wh_ids = [r[0] for r in con.execute("SELECT id FROM warehouses ORDER BY priority")]
    for wh in wh_ids:
        con.executemany("INSERT INTO stock_levels (item_id, warehouse_id, on_hand, updated_at) VALUES (?,?,?,?)",
                        ((i, wh, rng.randrange(0, 500), now) for i in range(1, rows + 1)))
    con.commit()
    con.close()


def write_update(db_path: Path, csv_path: Path, rows: int, seed: int = 11) -> int:
    """Write the N-row Quantity Update from the current levels with 5% of the cells changed; cells changed."""
    rng = random.Random(seed)
    con = sqlite3.connect(db_path)
    ids = {code: wid for code, wid in con.execute("SELECT code, id FROM warehouses")}
    levels = {code: dict(con.execute("SELECT item_id, on_hand FROM stock_levels WHERE warehouse_id=?", (ids[code],)))
              for code in WAREHOUSES}
    con.close()
    changed = 0
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["SKU", "Title", *WAREHOUSES])
        for i in range(1, rows + 1):
            values = []
            for code in WAREHOUSES:
                value = levels[code][i]
                if rng.random() < CHANGED:
                    value, changed = value + rng.randrange(1, 50), changed + 1
                values.append(value)
            writer.writerow([f"SKU{i:07d}", f"Item {i}", *values])
    return changed


def child_ingest(config: Path, csv_path: Path) -> None:
    """In a child process: receive and process the file through the real pipeline; print timings as JSON."""
    started = time.perf_counter()
    from gateway.app import App
    from gateway.intake import Delivery, receive_file
    from gateway.pipeline import process_file

    app = App.from_config(str(config))
    imported = time.perf_counter()
    file_id = receive_file(app.db, app.settings.data_dir, Delivery(name=csv_path.name, transport="cli"), csv_path)
    received = time.perf_counter()
    report = process_file(app.db, app.settings, file_id)
    done = time.perf_counter()
    print(json.dumps({"status": report.status, "rows": report.document["rows"],
                      "changes": report.document["changes"], "import_s": imported - started,
                      "receive_s": received - imported, "process_s": done - received, "total_s": done - imported,
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def floor(db_path: Path, csv_path: Path) -> tuple[float, int]:
    """The raw sqlite3 floor, set-based: the CSV rows straight into a TEMP table (multi-row INSERTs), one
    join for the rows that differ, one upsert per warehouse from it; no validation, ledger or report.
    (seconds, cells changed). The fastest raw way we know: the pipeline is compared with this one.
    """
    started = time.perf_counter()
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA synchronous=NORMAL")   # the product's setting; WAL is already set on the file
    ids = {code: wid for code, wid in con.execute("SELECT code, id FROM warehouses")}
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    con.execute("CREATE TEMP TABLE f (sku TEXT NOT NULL, title TEXT, q0 INTEGER, q1 INTEGER, q2 INTEGER)")
    with open(csv_path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        cells, per = chain.from_iterable(reader), 199   # column affinity turns the digit texts into integers
        while batch := tuple(islice(cells, 5 * per)):
            con.execute("INSERT INTO temp.f VALUES " + ", ".join(["(?, ?, ?, ?, ?)"] * (len(batch) // 5)), batch)
    joins = " ".join(f"LEFT JOIN stock_levels s{k} ON s{k}.item_id = i.id AND s{k}.warehouse_id = {ids[code]}"
                     for k, code in enumerate(WAREHOUSES))
    con.execute(f"CREATE TEMP TABLE d AS SELECT i.id AS item, f.q0, s0.on_hand AS l0, f.q1, s1.on_hand AS l1, "
                f"f.q2, s2.on_hand AS l2 FROM temp.f f JOIN items i ON i.sku = f.sku {joins} "
                f"WHERE f.q0 IS NOT s0.on_hand OR f.q1 IS NOT s1.on_hand OR f.q2 IS NOT s2.on_hand")
    changed = 0
    for k, code in enumerate(WAREHOUSES):
        changed += con.execute(
            f"INSERT INTO stock_levels (item_id, warehouse_id, on_hand, updated_at) SELECT item, ?, q{k}, ? "
            f"FROM temp.d WHERE q{k} IS NOT l{k} ON CONFLICT (item_id, warehouse_id) DO UPDATE SET "
            f"on_hand = excluded.on_hand, updated_at = excluded.updated_at", (ids[code], now)).rowcount
    con.commit()
    con.close()
    return time.perf_counter() - started, changed


def floor_dict_reads(db_path: Path, csv_path: Path) -> tuple[float, int]:
    """The earlier floor: catalog and levels read into dicts, a Python diff, executemany upsert. (seconds, changed)."""
    started = time.perf_counter()
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA synchronous=NORMAL")
    ids = {code: wid for code, wid in con.execute("SELECT code, id FROM warehouses")}
    items = dict(con.execute("SELECT sku, id FROM items"))
    levels = [dict(con.execute("SELECT item_id, on_hand FROM stock_levels WHERE warehouse_id=?", (ids[c],)))
              for c in WAREHOUSES]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    wh_ids = [ids[c] for c in WAREHOUSES]
    changes = []
    with open(csv_path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        for sku, _title, *values in reader:
            item = items[sku]
            for level, wh, text in zip(levels, wh_ids, values):
                quantity = int(text)
                if level.get(item) != quantity:
                    changes.append((item, wh, quantity, now))
    con.executemany("INSERT INTO stock_levels (item_id, warehouse_id, on_hand, updated_at) VALUES (?,?,?,?) "
                    "ON CONFLICT (item_id, warehouse_id) DO UPDATE SET on_hand=excluded.on_hand, "
                    "updated_at=excluded.updated_at", changes)
    con.commit()
    con.close()
    return time.perf_counter() - started, len(changes)


def orm(db_path: Path, csv_path: Path, rows: int) -> float:
    """A straightforward per-row ORM implementation on the first `rows` rows; seconds."""
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
    engine = create_engine(f"sqlite:///{db_path}")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--orm-rows", type=int, default=10_000, help="slice timed with the per-row ORM version")
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--child", nargs=2, metavar=("CONFIG", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_ingest(Path(args.child[0]), Path(args.child[1]))
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="sg-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        run(folder, args)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


def run(folder: Path, args) -> None:
    rows, cells = args.rows, args.rows * len(WAREHOUSES)
    db_path, csv_path = folder / "stockgate.db", folder / "update.csv"
    t = time.perf_counter()
    build_catalog(db_path, rows)
    changed = write_update(db_path, csv_path, rows)
    print(f"catalog: {rows:,} SKUs x {len(WAREHOUSES)} warehouses, update changes {changed:,} of {cells:,} cells "
          f"({csv_path.stat().st_size / 1e6:.1f} MB) [{time.perf_counter() - t:.1f} s to build]")
    for name in ("floor.db", "floor_dicts.db", "orm.db"):
        shutil.copy(db_path, folder / name)
    config = folder / "stockgate.toml"
    config.write_text(f'data_dir = "{folder / "var"}"\ndatabase_url = "sqlite:///{db_path}"\n', encoding="utf-8")
    child = subprocess.run([sys.executable, __file__, "--child", str(config), str(csv_path)],
                           capture_output=True, text=True, check=False)
    if child.returncode:
        sys.exit(f"the pipeline run failed:\n{child.stderr}")
    result = json.loads(child.stdout.strip().splitlines()[-1])
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    ingest_s = result["total_s"]
    print(f"pipeline: {ingest_s:.2f} s (receive {result['receive_s']:.2f} s, process {result['process_s']:.2f} s), "
          f"status {result['status']}, rows {result['rows']}, changes {result['changes']}, peak RSS {rss_mb:.0f} MB")
    floor_s, floor_changed = floor(folder / "floor.db", csv_path)
    print(f"floor: {floor_s:.2f} s for {rows:,} rows ({floor_changed:,} cells changed; TEMP table, set-based upsert)")
    dicts_s, dicts_changed = floor_dict_reads(folder / "floor_dicts.db", csv_path)
    print(f"floor with dict reads: {dicts_s:.2f} s ({dicts_changed:,} cells changed; the earlier floor, for reference)")
    orm_rows = min(args.orm_rows, rows)
    orm_s = orm(folder / "orm.db", csv_path, orm_rows)
    print(f"orm: {orm_s:.2f} s for {orm_rows:,} rows")
    xlsx_s = xlsx_parse(folder, args.xlsx_rows)
    print(f"xlsx: {args.xlsx_rows:,}-row XLSX parsed in {xlsx_s:.2f} s")
    ingest_rate, floor_rate = cells / ingest_s, cells / floor_s
    orm_rate = orm_rows * len(WAREHOUSES) / orm_s
    print(f"ratios: {ingest_rate / orm_rate:.1f}x the ORM, {floor_rate / ingest_rate:.2f}x slower than the floor")
    print(f"ingest: {ingest_rate:,.0f} cells/s, floor {floor_rate:,.0f}, orm {orm_rate:,.0f}, rss {rss_mb:,.0f} MB")


if __name__ == "__main__":
    main()
