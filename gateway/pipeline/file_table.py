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
FAILED = "sg_file_failed"   # a streamed file's rows with an error and a SKU: (file_row, sku, repeatable)
ZERO = "sg_file_zero"    # a `full` snapshot's stocked levels it does not name: (n, item, on_hand), by item
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
        _insert(cursor, TABLE, ["sku", *names], zip(skus, *columns), len(skus))
        yield
    finally:
        cursor.execute(f"DROP TABLE IF EXISTS temp.{TABLE}")
        cursor.close()


def _insert(cursor, table: str, names: list[str], rows: Iterator[tuple], count: int) -> None:
    """Insert `count` rows, many per statement (a million single-row statements take 1.6 times as long).

    Unless seq is given it is the rowid, which in a fresh table counts 1, 2, 3... in insertion order.
    """
    per = max(1, min(_ROWS_PER_INSERT, _MAX_VARIABLES // len(names)))
    one = f"({', '.join('?' * len(names))})"
    sql = f"INSERT INTO temp.{table} ({', '.join(names)}) VALUES "
    values = chain.from_iterable(rows)
    full, rest = divmod(count, per)
    if full:
        cursor.executemany(sql + ", ".join([one] * per),
                           (tuple(islice(values, per * len(names))) for _ in range(full)))
    if rest:
        cursor.execute(sql + ", ".join([one] * rest), tuple(values))


def differing_rows(conn: Connection, warehouse_ids: Sequence[int]) -> list[tuple]:
    """Rows of the file table whose SKU is unknown or whose quantity would move a level, in file order.

    Each is `(index, item_id or None, q0, on_hand0, q1, on_hand1, ...)` with one value/level pair per
    warehouse (in `warehouse_ids` order); a level that does not exist is None. A cell counts where its
    value differs from the level, and a 0 where there is no level; empty cells never count.
    """
    joins, picks, wheres = [], [], ["i.id IS NULL"]
    for k in range(len(warehouse_ids)):
        joins.append(f"LEFT JOIN stock_levels s{k} ON s{k}.item_id = i.id AND s{k}.warehouse_id = ?")
        picks.append(f", f.q{k}, s{k}.on_hand")
        # absolute: a 0 where no level exists yet counts too (the level is created: "holds 0" is a figure)
        wheres.append(f"(f.q{k} IS NOT NULL AND f.q{k} IS NOT s{k}.on_hand)")
    sql = (f"SELECT f.seq - 1, i.id{''.join(picks)} FROM temp.{TABLE} f LEFT JOIN items i ON i.sku = f.sku "
           f"{' '.join(joins)} WHERE {' OR '.join(wheres)} ORDER BY f.seq")
    return _fetch(conn, sql, tuple(warehouse_ids))


def absent_stocked_levels(conn: Connection, warehouse_id: int) -> list[tuple[int, int]]:
    """(item_id, on_hand) of the warehouse's levels above 0 whose SKU is not in the file table."""
    return run(conn, f"SELECT s.item_id, s.on_hand FROM stock_levels s WHERE s.warehouse_id = ? "
                      f"AND s.on_hand > 0 AND s.item_id NOT IN (SELECT i.id FROM {TABLE} f "
                      f"JOIN items i ON i.sku = f.sku) ORDER BY s.item_id", (warehouse_id,))


def stocked_count(conn: Connection, warehouse_id: int) -> int:
    """How many levels of the warehouse are above 0."""
    return run(conn, "SELECT count(*) FROM stock_levels WHERE warehouse_id = ? AND on_hand > 0", (warehouse_id,))[0][0]


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


def run(conn: Connection, sql: str, params: tuple = ()) -> list[tuple]:
    """Execute one statement (`?` marks on both engines) on the driver's cursor; its rows, if any."""
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
        for name in (ZERO, DIFF, TABLE, FAILED):
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
    finally:
        cursor.close()


def insert_rows(conn: Connection, table: str, names: list[str], rows: Iterator[tuple], count: int) -> None:
    """SQLite: add `count` rows to a TEMP table by multi-row INSERTs."""
    cursor = conn.connection.cursor()
    try:
        _insert(cursor, table, names, rows, count)
    finally:
        cursor.close()


def copy_rows(conn: Connection, table: str, names: list[str], rows: Iterator[tuple], count: int) -> None:
    """PostgreSQL: add rows to a TEMP table by one COPY (`count` unused: the rows say when they end)."""
    cursor = conn.connection.cursor()
    try:
        with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()


def unknown_count(conn: Connection) -> int:
    """How many staged rows name a SKU the catalog does not have."""
    return run(conn, f"SELECT count(*) FROM {TABLE} f WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.sku = f.sku)")[0][0]


def unknown_suspects(conn: Connection) -> list[tuple[int, int, str, str | None]]:
    """(seq, file row, SKU, the parser's suspicion or None) of the unknown staged rows a spreadsheet may have
    made (suspected by the parser, all digits, or with a `+`), in file order: the only unknown rows that
    come back to Python."""
    digits = "f.sku NOT GLOB '*[^0-9]*'" if conn.dialect.name == "sqlite" else "f.sku ~ '^[0-9]+$'"
    plus = "instr(f.sku, '+') > 0" if conn.dialect.name == "sqlite" else "strpos(f.sku, '+') > 0"
    return run(conn, f"SELECT f.seq, f.file_row, f.sku, f.suspect FROM {TABLE} f WHERE NOT EXISTS (SELECT 1 FROM "
                     f"items i WHERE i.sku = f.sku) AND (f.suspect IS NOT NULL OR {digits} OR {plus}) ORDER BY f.seq")


def unknown_rows(conn: Connection, limit: int) -> list[tuple[int, str]]:
    """(file row, SKU) of the first `limit` staged rows whose SKU is unknown, in file order (UNKNOWN_SKU each)."""
    return run(conn, f"SELECT f.file_row, f.sku FROM {TABLE} f WHERE NOT EXISTS (SELECT 1 FROM items i "
                     "WHERE i.sku = f.sku) ORDER BY f.seq LIMIT ?", (limit,))


def drop_unknown(conn: Connection) -> None:
    """Take the rows whose SKU is unknown out of the staged table (they were reported, never applied)."""
    run(conn, f"DELETE FROM {TABLE} WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.sku = {TABLE}.sku)")


def drop_rows(conn: Connection, seqs: Sequence[int]) -> None:
    """Take these staged rows (by seq) out of the staged table: they apply nothing."""
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(_sql(conn, f"DELETE FROM {TABLE} WHERE seq = ?"), [(seq,) for seq in seqs])
    finally:
        cursor.close()


def rows_of_skus(conn: Connection, skus: Sequence[str], columns: int) -> dict[str, tuple]:
    """SKU -> (seq, file row, q0, q1, ...) of the staged rows naming these SKUs (one row per SKU by then)."""
    run(conn, "CREATE TEMP TABLE sg_file_wanted (sku TEXT PRIMARY KEY)")
    try:
        write = copy_rows if conn.dialect.name == "postgresql" else insert_rows
        write(conn, "sg_file_wanted", ["sku"], ((sku,) for sku in skus), len(skus))
        values = "".join(f", f.q{k}" for k in range(columns))
        found = run(conn, f"SELECT f.sku, f.seq, f.file_row{values} FROM {TABLE} f JOIN sg_file_wanted w ON w.sku = f.sku")
    finally:
        run(conn, "DROP TABLE sg_file_wanted")
    return {row[0]: row[1:] for row in found}


def set_cells(conn: Connection, cells: Sequence[tuple[int, int, int]]) -> None:
    """Set staged cells: (k of the column q<k>, value, seq) each."""
    cursor = conn.connection.cursor()
    try:
        for k, value, seq in cells:
            cursor.execute(_sql(conn, f"UPDATE {TABLE} SET q{k} = ? WHERE seq = ?"), (value, seq))
    finally:
        cursor.close()


def create_unknown_items(conn: Connection, file_id: str | None, at) -> int:
    """Create an item, with the row's title, for every staged SKU not in the catalog yet (remembering
    `file_id`)."""
    run(conn, f"INSERT INTO items (sku, title, created_at, created_by_file) SELECT f.sku, f.title, ?, ? "
               f"FROM {TABLE} f LEFT JOIN items i ON i.sku = f.sku WHERE i.id IS NULL ORDER BY f.seq "
               "ON CONFLICT (sku) DO NOTHING", (at, file_id))


def store_titles(conn: Connection, *, replace: bool) -> None:
    """Give the staged rows' items their titles: where an item has none, and with `replace` (a Quantity
    Update) where its title differs (`stock.titles.store_titles`' rules, in one statement)."""
    differs = " OR items.title <> f.title" if replace else ""
    run(conn, f"UPDATE items SET title = f.title FROM {TABLE} f WHERE items.sku = f.sku AND f.title IS NOT NULL "
               f"AND (items.title IS NULL OR items.title = ''{differs})")


def lock_levels(conn: Connection, warehouse_ids: Sequence[int]) -> None:
    """PostgreSQL: lock (FOR UPDATE, in key order) the existing levels the staged rows name, without
    bringing them into Python."""
    run(conn, f"SELECT count(*) FROM (SELECT 1 FROM stock_levels s JOIN items i ON i.id = s.item_id "
               f"JOIN {TABLE} f ON f.sku = i.sku WHERE s.warehouse_id IN ({', '.join('?' * len(warehouse_ids))}) "
               "ORDER BY s.item_id, s.warehouse_id FOR UPDATE OF s) locked", tuple(warehouse_ids))


def lock_warehouse(conn: Connection, warehouse_id: int) -> None:
    """PostgreSQL: lock (FOR UPDATE, in key order) every level of the warehouse, without reading them out."""
    run(conn, "SELECT count(*) FROM (SELECT 1 FROM stock_levels WHERE warehouse_id = ? ORDER BY item_id "
               "FOR UPDATE) locked", (warehouse_id,))


def stage_diff(conn: Connection, warehouse_ids: Sequence[int], *, provisional: bool = False) -> None:
    """`sg_file_diff(n, seq, file_row, item, q0, l0, ...)`: the staged rows (known SKUs) with a cell whose value
    differs from its level, or a 0 where no level exists yet (it is created), numbered 1, 2, ... in file order.
    With `provisional` (a dry run, which creates nothing) the rows of SKUs not in the catalog are kept too,
    with the provisional item id -seq and no levels."""
    postgres = conn.dialect.name == "postgresql"
    integer = "BIGINT" if postgres else "INTEGER"
    count = len(warehouse_ids)
    cells = "".join(f", q{k} {integer}, l{k} {integer}" for k in range(count))
    run(conn, f"CREATE TEMP TABLE {DIFF} (n {integer} PRIMARY KEY, seq {integer}, file_row {integer}, "
               f"item {integer}{cells})" + (" ON COMMIT DROP" if postgres else ""))
    joins = " ".join(f"LEFT JOIN stock_levels s{k} ON s{k}.item_id = i.id AND s{k}.warehouse_id = ?"
                     for k in range(count))
    picks = "".join(f", f.q{k}, s{k}.on_hand" for k in range(count))
    wheres = " OR ".join(f"(f.q{k} IS NOT NULL AND f.q{k} IS DISTINCT FROM s{k}.on_hand)" for k in range(count))
    names = "".join(f", q{k}, l{k}" for k in range(count))
    item, join = ("COALESCE(i.id, -f.seq)", "LEFT JOIN") if provisional else ("i.id", "JOIN")
    # SQLite numbers the rows itself: a fresh table's rowids count 1, 2, ... in insertion order, which the ORDER
    # BY makes file order (a third cheaper than row_number(), whose window materialises the whole join first)
    number = "row_number() OVER (ORDER BY f.seq)" if postgres else "NULL"
    run(conn, f"INSERT INTO {DIFF} (n, seq, file_row, item{names}) SELECT {number}, "
               f"f.seq, f.file_row, {item}{picks} FROM {TABLE} f {join} items i ON i.sku = f.sku {joins} "
               f"WHERE {wheres} ORDER BY f.seq", tuple(warehouse_ids))
    if postgres:
        run(conn, f"ANALYZE {DIFF}")


def diff_counts(conn: Connection, warehouse_count: int) -> tuple[int, int, int, int]:
    """(rows that move a level, cells increased, decreased, zeroed) of the staged diff."""
    moved = [f"(q{k} IS NOT NULL AND q{k} <> COALESCE(l{k}, 0))" for k in range(warehouse_count)]
    up = " + ".join(f"(CASE WHEN {m} AND q{k} > COALESCE(l{k}, 0) THEN 1 ELSE 0 END)" for k, m in enumerate(moved))
    zero = " + ".join(f"(CASE WHEN {m} AND q{k} = 0 THEN 1 ELSE 0 END)" for k, m in enumerate(moved))
    down = " + ".join(f"(CASE WHEN {m} AND q{k} < COALESCE(l{k}, 0) AND q{k} > 0 THEN 1 ELSE 0 END)"
                      for k, m in enumerate(moved))
    row = run(conn, f"SELECT count(*), COALESCE(sum(CASE WHEN {' OR '.join(moved)} THEN 1 ELSE 0 END), 0), "
                     f"COALESCE(sum({up}), 0), COALESCE(sum({down}), 0), COALESCE(sum({zero}), 0) FROM {DIFF}")[0]
    return int(row[1]), int(row[2]), int(row[3]), int(row[4])


# --- a `full` snapshot's zeroing: the stocked levels it does not name, kept in ZERO until `drop_staged` -------

def stage_zeroing(conn: Connection, warehouse_id: int, spared: Sequence[int]) -> int:
    """`sg_file_zero(n, item, on_hand)`: the warehouse's levels above 0 whose SKU is neither a staged row nor a
    failed one (a row with an error never zeroes its SKU), less the items in `spared`, numbered 1, 2, ... by
    item id. Returns how many (the levels stay in the database, never a list in Python)."""
    postgres = conn.dialect.name == "postgresql"
    integer = "BIGINT" if postgres else "INTEGER"
    run(conn, f"CREATE TEMP TABLE {ZERO} (n {integer} PRIMARY KEY, item {integer} NOT NULL, on_hand {integer})"
              + (" ON COMMIT DROP" if postgres else ""))
    run(conn, f"INSERT INTO {ZERO} (n, item, on_hand) SELECT row_number() OVER (ORDER BY s.item_id), s.item_id, "
              f"s.on_hand FROM stock_levels s WHERE s.warehouse_id = ? AND s.on_hand > 0 AND s.item_id NOT IN "
              f"(SELECT i.id FROM {TABLE} f JOIN items i ON i.sku = f.sku) AND s.item_id NOT IN (SELECT i.id FROM "
              f"{FAILED} x JOIN items i ON i.sku = x.sku) ORDER BY s.item_id", (warehouse_id,))
    spared = sorted(set(spared))
    for start in range(0, len(spared), 500):
        part = spared[start:start + 500]
        run(conn, f"DELETE FROM {ZERO} WHERE item IN ({', '.join('?' * len(part))})", tuple(part))
    if postgres:
        run(conn, f"ANALYZE {ZERO}")
    return run(conn, f"SELECT count(*) FROM {ZERO}")[0][0]


def zeroed_by_sku(conn: Connection, limit: int) -> list[tuple[str, int]]:
    """(SKU, on_hand) of the first `limit` levels in ZERO by SKU, in code-point order as Python sorts them
    (PostgreSQL: the C collation, whatever the database's own)."""
    collate = ' COLLATE "C"' if conn.dialect.name == "postgresql" else ""
    return run(conn, f"SELECT i.sku, z.on_hand FROM {ZERO} z JOIN items i ON i.id = z.item "
                     f"ORDER BY i.sku{collate} LIMIT ?", (limit,))


def zeroed_by_item(conn: Connection, limit: int) -> list[tuple[str, int]]:
    """(SKU, on_hand) of the first `limit` levels in ZERO by item id (the order they are zeroed in)."""
    return run(conn, f"SELECT i.sku, z.on_hand FROM {ZERO} z JOIN items i ON i.id = z.item ORDER BY z.n LIMIT ?",
               (limit,))


def moving_cells(conn: Connection, k: int, limit: int) -> list[tuple[int, str, int | None, int]]:
    """(file row, SKU, level or None, value) of the first `limit` cells of warehouse column k in DIFF that move
    a level (a value that differs from the level, 0 for none), in file order."""
    return run(conn, f"SELECT d.file_row, f.sku, d.l{k}, d.q{k} FROM {DIFF} d JOIN {TABLE} f ON f.seq = d.seq "
                     f"WHERE d.q{k} IS NOT NULL AND d.q{k} <> COALESCE(d.l{k}, 0) ORDER BY d.n LIMIT ?", (limit,))


# --- a `delta` file: its summed movements against the levels, clamped at 0, kept in DIFF until `drop_staged` --

def stage_delta_diff(conn: Connection, warehouse_ids: Sequence[int], limit: int, *, provisional: bool = False) -> None:
    """`sg_file_diff(n, seq, file_row, item, q0, l0, d0, ...)` for a `delta` file: the staged rows (known SKUs)
    with a non-zero movement d<k>; q<k> is the level it leads to, `apply_file_diff`'s target: the level plus
    the movement, 0 where that would be negative (CLAMPED_AT_ZERO), NULL where nothing moves (already 0) or the
    result is above `limit` (QUANTITY_TOO_LARGE: that cell is not applied). With `provisional` (a dry run) the
    rows of SKUs not in the catalog are kept too, with the provisional item id -seq and no levels."""
    postgres = conn.dialect.name == "postgresql"
    integer = "BIGINT" if postgres else "INTEGER"
    count = len(warehouse_ids)
    cells = "".join(f", q{k} {integer}, l{k} {integer}, d{k} {integer}" for k in range(count))
    run(conn, f"CREATE TEMP TABLE {DIFF} (n {integer} PRIMARY KEY, seq {integer}, file_row {integer}, "
               f"item {integer}{cells})" + (" ON COMMIT DROP" if postgres else ""))
    joins = " ".join(f"LEFT JOIN stock_levels s{k} ON s{k}.item_id = i.id AND s{k}.warehouse_id = ?"
                     for k in range(count))
    picks = []
    for k in range(count):
        before, move = f"COALESCE(s{k}.on_hand, 0)", f"f.q{k}"
        picks.append(f", CASE WHEN {move} IS NULL OR {move} = 0 THEN NULL WHEN {before} + {move} < 0 THEN "
                     f"(CASE WHEN {before} = 0 THEN NULL ELSE 0 END) WHEN {before} + {move} > {int(limit)} THEN NULL "
                     f"ELSE {before} + {move} END, s{k}.on_hand, {move}")
    wheres = " OR ".join(f"(f.q{k} IS NOT NULL AND f.q{k} <> 0)" for k in range(count))
    names = "".join(f", q{k}, l{k}, d{k}" for k in range(count))
    item, join = ("COALESCE(i.id, -f.seq)", "LEFT JOIN") if provisional else ("i.id", "JOIN")
    run(conn, f"INSERT INTO {DIFF} (n, seq, file_row, item{names}) SELECT row_number() OVER (ORDER BY f.seq), "
               f"f.seq, f.file_row, {item}{''.join(picks)} FROM {TABLE} f {join} items i ON i.sku = f.sku {joins} "
               f"WHERE {wheres} ORDER BY f.seq", tuple(warehouse_ids))
    if postgres:
        run(conn, f"ANALYZE {DIFF}")


def _delta_issue_cells(warehouse_count: int, limit: int) -> str:
    """(file row, k, SKU, level, movement, 1 when too large else 0) of DIFF's cells clamped at 0 or too large."""
    return " UNION ALL ".join(
        f"SELECT d.file_row, {k} AS k, d.seq, COALESCE(d.l{k}, 0) AS level, d.d{k} AS move, CASE WHEN "
        f"COALESCE(d.l{k}, 0) + d.d{k} > {int(limit)} THEN 1 ELSE 0 END AS large FROM {DIFF} d WHERE d.d{k} <> 0 AND "
        f"(COALESCE(d.l{k}, 0) + d.d{k} < 0 OR COALESCE(d.l{k}, 0) + d.d{k} > {int(limit)})"
        for k in range(warehouse_count))


def delta_issue_cells(conn: Connection, warehouse_count: int, limit: int, listed: int) -> list[tuple]:
    """The first `listed` cells of a `delta` file's DIFF that clamp at 0 or go above `limit`, by file row and
    warehouse column: (file row, k, SKU, level, movement, too large)."""
    cells = _delta_issue_cells(warehouse_count, limit)
    return run(conn, f"SELECT c.file_row, c.k, f.sku, c.level, c.move, c.large FROM ({cells}) c "
                     f"JOIN {TABLE} f ON f.seq = c.seq ORDER BY c.file_row, c.k LIMIT ?", (listed,))


def delta_issue_counts(conn: Connection, warehouse_count: int, limit: int) -> tuple[int, int, int]:
    """(cells clamped at 0, cells too large, rows with a cell too large) of a `delta` file's DIFF."""
    row = run(conn, f"SELECT count(*) - COALESCE(sum(large), 0), COALESCE(sum(large), 0), count(DISTINCT CASE WHEN "
                     f"large = 1 THEN file_row END) FROM ({_delta_issue_cells(warehouse_count, limit)}) c")[0]
    return int(row[0]), int(row[1]), int(row[2])
