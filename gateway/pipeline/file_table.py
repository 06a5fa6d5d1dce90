"""A file's valid rows as a TEMP table, compared with items and stock levels inside the database.

A million-row file goes in with multi-row INSERTs (SQLite) or COPY (PostgreSQL), and one join keeps only
the rows whose levels differ, instead of pulling the whole catalog and every level into Python. A file
being applied keeps them in a second TEMP table (`DIFF`), which `stock.apply_file_diff` writes a chunk
at a time; a dry run (`file_rows`, SQLite) gets the differing rows back instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from itertools import chain, islice

from sqlalchemy import Connection

TABLE = "sg_file_rows"   # lives in the connection's temp schema, for one plan, then dropped
DIFF = "sg_file_diff"    # the rows of a file being applied that move a level: (n, seq, file_row, item, q0, l0...)
_COPY_BATCH = 10_000     # rows per COPY write (PostgreSQL)
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
    return _run(conn, f"SELECT s.item_id, s.on_hand FROM stock_levels s WHERE s.warehouse_id = ? "
                      f"AND s.on_hand > 0 AND s.item_id NOT IN (SELECT i.id FROM {TABLE} f "
                      f"JOIN items i ON i.sku = f.sku) ORDER BY s.item_id", (warehouse_id,))


def stocked_count(conn: Connection, warehouse_id: int) -> int:
    """How many levels of the warehouse are above 0."""
    return _run(conn, "SELECT count(*) FROM stock_levels WHERE warehouse_id = ? AND on_hand > 0", (warehouse_id,))[0][0]


def _fetch(conn: Connection, sql: str, params: tuple) -> list[tuple]:
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


# --- a file being applied: staged rows and their differing levels, kept until `drop_staged` -----------------

def _sql(conn: Connection, sql: str) -> str:
    return sql if conn.dialect.name == "sqlite" else sql.replace("?", "%s")


def _run(conn: Connection, sql: str, params: tuple = ()) -> list[tuple]:
    cursor = conn.connection.cursor()
    try:
        cursor.execute(_sql(conn, sql), params)
        return cursor.fetchall() if cursor.description else []
    finally:
        cursor.close()


def drop_staged(conn: Connection) -> None:
    """Drop the staged file tables (also dropped with the transaction on PostgreSQL, rolled back with it on
    SQLite when it fails)."""
    cursor = conn.connection.cursor()
    try:
        for name in (DIFF, TABLE):
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
    finally:
        cursor.close()


def stage(conn: Connection, rows: Sequence[int], skus: Sequence[str], titles: Sequence[str | None],
          columns: Sequence[Sequence[int | None]]) -> None:
    """Create `sg_file_rows(seq, file_row, sku, title, q0..qN)` (seq: 1 + index into `skus`; title: the
    row's storable title or NULL) and fill it: SQLite by multi-row INSERTs, PostgreSQL by COPY; it stays
    until `drop_staged` (or, on PostgreSQL, the commit)."""
    drop_staged(conn)
    names = [f"q{k}" for k in range(len(columns))]
    postgres = conn.dialect.name == "postgresql"
    integer = "BIGINT" if postgres else "INTEGER"
    cursor = conn.connection.cursor()
    try:
        cursor.execute(f"CREATE TEMP TABLE {TABLE} (seq {integer} PRIMARY KEY, file_row {integer}, sku TEXT NOT NULL, "
                       "title TEXT"
                       f"{''.join(f', {name} {integer}' for name in names)})" + (" ON COMMIT DROP" if postgres else ""))
        if postgres:
            with cursor.copy(f"COPY {TABLE} (seq, file_row, sku, title, {', '.join(names)}) FROM STDIN") as copy:
                for row in zip(range(1, len(skus) + 1), rows, skus, titles, *columns):
                    copy.write_row(row)
            cursor.execute(f"ANALYZE {TABLE}")
        else:
            values = zip(range(1, len(skus) + 1), rows, skus, titles, *columns)
            _insert(cursor, ["seq", "file_row", "sku", "title", *names], values, len(skus))
    finally:
        cursor.close()


def unknown_seqs(conn: Connection) -> list[int]:
    """Indexes (seq - 1) of the staged rows whose SKU is not in the catalog, in file order."""
    return [r[0] for r in _run(conn, f"SELECT f.seq - 1 FROM {TABLE} f LEFT JOIN items i ON i.sku = f.sku "
                                     "WHERE i.id IS NULL ORDER BY f.seq")]


def drop_rows(conn: Connection, indexes: Sequence[int]) -> None:
    """Take these rows (indexes into the file's kept rows) out of the staged table: they apply nothing."""
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(_sql(conn, f"DELETE FROM {TABLE} WHERE seq = ?"), [(i + 1,) for i in indexes])
    finally:
        cursor.close()


def create_unknown_items(conn: Connection, file_id: str | None, at) -> int:
    """Create an item, with the row's title, for every staged SKU not in the catalog yet (remembering
    `file_id`)."""
    _run(conn, f"INSERT INTO items (sku, title, created_at, created_by_file) SELECT f.sku, f.title, ?, ? "
               f"FROM {TABLE} f LEFT JOIN items i ON i.sku = f.sku WHERE i.id IS NULL ORDER BY f.seq "
               "ON CONFLICT (sku) DO NOTHING", (at, file_id))


def store_titles(conn: Connection, *, replace: bool) -> None:
    """Give the staged rows' items their titles: where an item has none, and with `replace` (a Quantity
    Update) where its title differs (`stock.titles.store_titles`' rules, in one statement)."""
    differs = " OR items.title <> f.title" if replace else ""
    _run(conn, f"UPDATE items SET title = f.title FROM {TABLE} f WHERE items.sku = f.sku AND f.title IS NOT NULL "
               f"AND (items.title IS NULL OR items.title = ''{differs})")


def lock_levels(conn: Connection, warehouse_ids: Sequence[int]) -> None:
    """PostgreSQL: lock (FOR UPDATE, in key order) the existing levels the staged rows name, without
    bringing them into Python."""
    _run(conn, f"SELECT count(*) FROM (SELECT 1 FROM stock_levels s JOIN items i ON i.id = s.item_id "
               f"JOIN {TABLE} f ON f.sku = i.sku WHERE s.warehouse_id IN ({', '.join('?' * len(warehouse_ids))}) "
               "ORDER BY s.item_id, s.warehouse_id FOR UPDATE OF s) locked", tuple(warehouse_ids))


def lock_warehouse(conn: Connection, warehouse_id: int) -> None:
    """PostgreSQL: lock (FOR UPDATE, in key order) every level of the warehouse, without reading them out."""
    _run(conn, "SELECT count(*) FROM (SELECT 1 FROM stock_levels WHERE warehouse_id = ? ORDER BY item_id "
               "FOR UPDATE) locked", (warehouse_id,))


def stage_diff(conn: Connection, warehouse_ids: Sequence[int]) -> None:
    """`sg_file_diff(n, seq, file_row, item, q0, l0, ...)`: the staged rows (known SKUs) with a cell whose value
    differs from its level, or a 0 where no level exists yet (it is created), numbered 1, 2, ... in file order."""
    postgres = conn.dialect.name == "postgresql"
    integer = "BIGINT" if postgres else "INTEGER"
    count = len(warehouse_ids)
    cells = "".join(f", q{k} {integer}, l{k} {integer}" for k in range(count))
    _run(conn, f"CREATE TEMP TABLE {DIFF} (n {integer} PRIMARY KEY, seq {integer}, file_row {integer}, "
               f"item {integer}{cells})" + (" ON COMMIT DROP" if postgres else ""))
    joins = " ".join(f"LEFT JOIN stock_levels s{k} ON s{k}.item_id = i.id AND s{k}.warehouse_id = ?"
                     for k in range(count))
    picks = "".join(f", f.q{k}, s{k}.on_hand" for k in range(count))
    wheres = " OR ".join(f"(f.q{k} IS NOT NULL AND f.q{k} IS DISTINCT FROM s{k}.on_hand)" for k in range(count))
    names = "".join(f", q{k}, l{k}" for k in range(count))
    _run(conn, f"INSERT INTO {DIFF} (n, seq, file_row, item{names}) SELECT row_number() OVER (ORDER BY f.seq), "
               f"f.seq, f.file_row, i.id{picks} FROM {TABLE} f JOIN items i ON i.sku = f.sku {joins} "
               f"WHERE {wheres} ORDER BY f.seq", tuple(warehouse_ids))
    if postgres:
        _run(conn, f"ANALYZE {DIFF}")


def diff_counts(conn: Connection, warehouse_count: int) -> tuple[int, int, int, int]:
    """(rows that move a level, cells increased, decreased, zeroed) of the staged diff."""
    moved = [f"(q{k} IS NOT NULL AND q{k} <> COALESCE(l{k}, 0))" for k in range(warehouse_count)]
    up = " + ".join(f"(CASE WHEN {m} AND q{k} > COALESCE(l{k}, 0) THEN 1 ELSE 0 END)" for k, m in enumerate(moved))
    zero = " + ".join(f"(CASE WHEN {m} AND q{k} = 0 THEN 1 ELSE 0 END)" for k, m in enumerate(moved))
    down = " + ".join(f"(CASE WHEN {m} AND q{k} < COALESCE(l{k}, 0) AND q{k} > 0 THEN 1 ELSE 0 END)"
                      for k, m in enumerate(moved))
    row = _run(conn, f"SELECT count(*), COALESCE(sum(CASE WHEN {' OR '.join(moved)} THEN 1 ELSE 0 END), 0), "
                     f"COALESCE(sum({up}), 0), COALESCE(sum({down}), 0), COALESCE(sum({zero}), 0) FROM {DIFF}")[0]
    return int(row[1]), int(row[2]), int(row[3]), int(row[4])
