"""SQLite: a file's valid rows as a TEMP table, compared with items and stock levels inside the database.

A million-row file goes in with multi-row INSERTs, and one join hands back only the rows whose SKU is
unknown or whose levels differ, instead of pulling the whole catalog and every level into Python.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from itertools import chain, islice

from sqlalchemy import Connection

TABLE = "sg_file_rows"   # lives in the connection's temp schema, for one plan, then dropped
_ROWS_PER_INSERT = 200
_MAX_VARIABLES = 999     # SQLite's smallest compiled-in limit of bound values per statement


@contextlib.contextmanager
def file_rows(conn: Connection, skus: Sequence[str], columns: Sequence[Sequence[int | None]]) -> Iterator[None]:
    """Hold `temp.sg_file_rows(seq, sku, q0..qN)` (seq: 1 + index into `skus`) for the duration of the block.

    Temp tables are private to the connection and never touch the main database file, so this also
    works inside a read transaction (a dry run).
    """
    cursor = conn.connection.cursor()
    try:
        names = [f"q{k}" for k in range(len(columns))]
        cursor.execute(f"DROP TABLE IF EXISTS temp.{TABLE}")
        cursor.execute(f"CREATE TEMP TABLE {TABLE} (seq INTEGER PRIMARY KEY, sku TEXT NOT NULL"
                       f"{''.join(f', {name} INTEGER' for name in names)})")
        _insert(cursor, ["sku", *names], zip(skus, *columns), len(skus))
        yield
    finally:
        cursor.execute(f"DROP TABLE IF EXISTS temp.{TABLE}")
        cursor.close()


def _insert(cursor, names: list[str], rows: Iterator[tuple], count: int) -> None:
    """Insert `count` rows, many per statement (a million single-row statements take 1.6 times as long).

    seq is not bound: it is the rowid, which in a fresh table counts 1, 2, 3... in insertion order.
    """
    per = max(1, min(_ROWS_PER_INSERT, _MAX_VARIABLES // len(names)))
    one = f"({', '.join('?' * len(names))})"
    sql = f"INSERT INTO temp.{TABLE} ({', '.join(names)}) VALUES "
    values = chain.from_iterable(rows)
    full, rest = divmod(count, per)
    if full:
        cursor.executemany(sql + ", ".join([one] * per),
                           (tuple(islice(values, per * len(names))) for _ in range(full)))
    if rest:
        cursor.execute(sql + ", ".join([one] * rest), tuple(values))


def differing_rows(conn: Connection, warehouse_ids: Sequence[int], *, delta: bool) -> list[tuple]:
    """Rows of the file table whose SKU is unknown or whose quantity would move a level, in file order.

    Each is `(index, item_id or None, q0, on_hand0, q1, on_hand1, ...)` with one value/level pair per
    warehouse (in `warehouse_ids` order); a level that does not exist is None. Absolute files keep a
    cell whose value differs from the level, and a 0 where there is no level; delta files keep every
    non-zero adjustment. Empty cells never count.
    """
    joins, picks, wheres = [], [], ["i.id IS NULL"]
    for k in range(len(warehouse_ids)):
        joins.append(f"LEFT JOIN stock_levels s{k} ON s{k}.item_id = i.id AND s{k}.warehouse_id = ?")
        picks.append(f", f.q{k}, s{k}.on_hand")
        # absolute: a 0 where no level exists yet counts too (the level is created: "holds 0" is a figure)
        wheres.append(f"f.q{k} <> 0" if delta else f"(f.q{k} IS NOT NULL AND f.q{k} IS NOT s{k}.on_hand)")
    sql = (f"SELECT f.seq - 1, i.id{''.join(picks)} FROM temp.{TABLE} f LEFT JOIN items i ON i.sku = f.sku "
           f"{' '.join(joins)} WHERE {' OR '.join(wheres)} ORDER BY f.seq")
    return _fetch(conn, sql, tuple(warehouse_ids))


def absent_stocked_levels(conn: Connection, warehouse_id: int) -> list[tuple[int, int]]:
    """(item_id, on_hand) of the warehouse's levels above 0 whose SKU is not in the file table."""
    return _fetch(conn, f"SELECT s.item_id, s.on_hand FROM stock_levels s WHERE s.warehouse_id = ? "
                        f"AND s.on_hand > 0 AND s.item_id NOT IN (SELECT i.id FROM temp.{TABLE} f "
                        f"JOIN items i ON i.sku = f.sku) ORDER BY s.item_id", (warehouse_id,))


def stocked_count(conn: Connection, warehouse_id: int) -> int:
    """How many levels of the warehouse are above 0."""
    return _fetch(conn, "SELECT count(*) FROM stock_levels WHERE warehouse_id = ? AND on_hand > 0",
                  (warehouse_id,))[0][0]


def _fetch(conn: Connection, sql: str, params: tuple) -> list[tuple]:
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()
