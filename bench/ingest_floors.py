"""The ingest floors: the fastest raw way we know to make a Quantity Update's writes, per database.

A floor writes what the pipeline writes for the file (new items, titles that differ, each changed level,
one ledger row per changed level, in one transaction), generically for any shape, with none of the
rest: no validation, no issues, no snapshot checks, no outbox, no report, no file record. It uses the product's database
settings (SQLite: WAL, synchronous=NORMAL, foreign keys on), so what separates the pipeline from its
floor is the pipeline's own work, not a faster configuration.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import chain, islice
from pathlib import Path

from ingest_data import WAREHOUSES

SQLITE_HOW = ("sqlite3, one transaction: csv.reader rows into a TEMP table by multi-row INSERTs (199 rows per "
              "statement); new SKUs (an anti-join) into items with their titles by INSERT ... SELECT, titles "
              "that differ by one UPDATE ... FROM; one join of the file table with items and the three "
              "warehouses' levels into a TEMP table of the differing rows; then per warehouse one INSERT ... "
              "SELECT into ledger and one INSERT ... SELECT ... ON CONFLICT DO UPDATE into stock_levels")
POSTGRES_HOW = ("psycopg, one transaction: the file's bytes streamed by COPY ... (FORMAT csv) into a TEMP table "
                "(ANALYZEd); new SKUs (an anti-join) into items with their titles by INSERT ... SELECT, titles "
                "that differ by one UPDATE ... FROM; one join of the file table (unpivoted by a LATERAL VALUES) "
                "with items and stock_levels into a TEMP table of the differing cells; then one INSERT ... "
                "SELECT into ledger and one INSERT ... SELECT ... ON CONFLICT DO UPDATE into stock_levels")


def _stopwatch() -> tuple[dict[str, float], Callable[[str], None]]:
    """Seconds per step: `lap(name)` ends the step `name` (begun where the last one ended)."""
    laps, last = {}, [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        laps[name], last[0] = laps.get(name, 0.0) + now - last[0], now
    return laps, lap


def sqlite_floor(db_path: Path, csv_path: Path, *, file_id: str = "floor") -> tuple[float, int, dict[str, float]]:
    """Run the SQLite floor on `db_path`; (seconds, ledger rows written, seconds per step)."""
    import sqlite3

    started = time.perf_counter()
    laps, lap = _stopwatch()
    con = sqlite3.connect(db_path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        con.execute(f"PRAGMA {pragma}")
    con.execute("BEGIN IMMEDIATE")
    ids = dict(con.execute("SELECT code, id FROM warehouses"))
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    con.execute("CREATE TEMP TABLE f (sku TEXT NOT NULL, title TEXT, q0 INTEGER, q1 INTEGER, q2 INTEGER)")
    with open(csv_path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        cells, per = chain.from_iterable(reader), 199   # column affinity turns the digit texts into integers
        while batch := tuple(islice(cells, 5 * per)):
            con.execute("INSERT INTO temp.f VALUES " + ", ".join(["(?, ?, ?, ?, ?)"] * (len(batch) // 5)), batch)
    lap("file -> TEMP table")
    con.execute("INSERT INTO items (sku, title, created_at, created_by_file) SELECT f.sku, NULLIF(f.title, ''), ?, ? "
                "FROM temp.f f WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.sku = f.sku)", (now, file_id))
    lap("new items")
    con.execute("UPDATE items SET title = f.title FROM temp.f f WHERE items.sku = f.sku AND f.title <> '' "
                "AND items.title IS NOT f.title")
    lap("titles that differ")
    joins = " ".join(f"LEFT JOIN stock_levels s{k} ON s{k}.item_id = i.id AND s{k}.warehouse_id = {ids[code]}"
                     for k, code in enumerate(WAREHOUSES))
    picks = ", ".join(f"f.q{k}, s{k}.on_hand AS l{k}" for k in range(len(WAREHOUSES)))
    differs = " OR ".join(f"f.q{k} <> IFNULL(s{k}.on_hand, 0)" for k in range(len(WAREHOUSES)))
    con.execute(f"CREATE TEMP TABLE d AS SELECT f.rowid + 1 AS file_row, i.id AS item, {picks} "
                f"FROM temp.f f JOIN items i ON i.sku = f.sku {joins} WHERE {differs}")
    lap("join: differing rows")
    written = 0
    for k, code in enumerate(WAREHOUSES):
        written += con.execute(
            f"INSERT INTO ledger (at, item_id, warehouse_id, delta, on_hand_after, cause, file_id, file_row) "
            f"SELECT ?, item, ?, q{k} - IFNULL(l{k}, 0), q{k}, 'file', ?, file_row FROM temp.d "
            f"WHERE q{k} <> IFNULL(l{k}, 0)", (now, ids[code], file_id)).rowcount
        lap("ledger INSERT")
        con.execute(f"INSERT INTO stock_levels (item_id, warehouse_id, on_hand, updated_at) SELECT item, ?, q{k}, ? "
                    f"FROM temp.d WHERE q{k} <> IFNULL(l{k}, 0) ON CONFLICT (item_id, warehouse_id) DO UPDATE SET "
                    f"on_hand = excluded.on_hand, updated_at = excluded.updated_at", (ids[code], now))
        lap("levels upsert")
    con.execute("COMMIT")
    con.close()
    lap("commit")
    return time.perf_counter() - started, written, laps


def postgres_floor(conninfo: str, csv_path: Path, *, file_id: str = "floor") -> tuple[float, int, dict[str, float]]:
    """Run the PostgreSQL floor on the database of `conninfo`; (seconds, ledger rows written, seconds per step)."""
    import psycopg

    started = time.perf_counter()
    laps, lap = _stopwatch()
    now = datetime.now(UTC)
    with psycopg.connect(conninfo) as con, con.cursor() as cur:
        ids = dict(cur.execute("SELECT code, id FROM warehouses").fetchall())
        cur.execute("CREATE TEMP TABLE f (seq bigserial, sku text NOT NULL, title text, q0 int, q1 int, q2 int) "
                    "ON COMMIT DROP")
        with cur.copy("COPY f (sku, title, q0, q1, q2) FROM STDIN (FORMAT csv, HEADER true)") as copy, \
                open(csv_path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        cur.execute("ANALYZE f")
        lap("COPY file -> TEMP table, ANALYZE")
        cur.execute("INSERT INTO items (sku, title, created_at, created_by_file) SELECT f.sku, NULLIF(f.title, ''), "
                    "%s, %s FROM f WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.sku = f.sku) ORDER BY f.seq",
                    (now, file_id))
        lap("new items")
        cur.execute("UPDATE items i SET title = f.title FROM f WHERE i.sku = f.sku AND f.title <> '' "
                    "AND i.title IS DISTINCT FROM f.title")
        lap("titles that differ")
        values = ", ".join(f"({ids[code]}, f.q{k})" for k, code in enumerate(WAREHOUSES))
        cur.execute(f"CREATE TEMP TABLE d ON COMMIT DROP AS SELECT f.seq + 1 AS file_row, i.id AS item, v.wh, v.q, "
                    f"s.on_hand AS l FROM f JOIN items i ON i.sku = f.sku CROSS JOIN LATERAL (VALUES {values}) "
                    f"v(wh, q) LEFT JOIN stock_levels s ON s.item_id = i.id AND s.warehouse_id = v.wh "
                    f"WHERE v.q <> COALESCE(s.on_hand, 0)")
        lap("join: differing cells")
        written = cur.execute(
            "INSERT INTO ledger (at, item_id, warehouse_id, delta, on_hand_after, cause, file_id, file_row) "
            "SELECT %s, item, wh, q - COALESCE(l, 0), q, 'file', %s, file_row FROM d ORDER BY wh, file_row",
            (now, file_id)).rowcount
        lap("ledger INSERT")
        cur.execute("INSERT INTO stock_levels (item_id, warehouse_id, on_hand, updated_at) SELECT item, wh, q, %s "
                    "FROM d ON CONFLICT (item_id, warehouse_id) DO UPDATE SET on_hand = excluded.on_hand, "
                    "updated_at = excluded.updated_at", (now,))
        lap("levels upsert")
        con.commit()
        lap("commit")
    return time.perf_counter() - started, written, laps
