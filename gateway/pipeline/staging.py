"""A streamed file's rows written into the database as the parser reads them, and its repeated SKUs found there.

The parser (`parsers.stream_file`) hands over bounded RowChunks; each goes straight into the TEMP table
`sg_file_rows` (multi-row INSERTs on SQLite, COPY on PostgreSQL), the rows with an error and a SKU into
`sg_file_failed`, so nothing in Python grows with the file but its issues. Then one aggregate finds the
SKUs that occur more than once, and only their rows come back, a SKU at a time, for the parser's rules
(DUPLICATE_SKU_AGREES, DUPLICATE_SKU) with the same issues and row numbers as `parsers.parse_file` gives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby

from sqlalchemy import Connection

from gateway.pipeline.file_table import FAILED, TABLE, copy_rows, drop_staged, insert_rows, run
from gateway.stock.titles import TITLE_MAX_LENGTH, storable_title
from parsers import Issue, ParsedFile, RowChunk, make_issue
from parsers.issues import LISTED_ISSUES

STAGE_CHUNK_ROWS = 50_000   # rows per chunk the parser hands over (tests make it small)
REPEATS = "sg_file_repeats"


@dataclass
class StagedRows:
    """What staging a streamed file left: its kept rows are in `sg_file_rows`, failed ones in `sg_file_failed`."""

    columns: list[str]                                   # the quantity keys, in the order of q0, q1, ...
    kept: int = 0                                        # kept rows once the repeats are settled
    titles: bool = False                                 # some kept row has a title
    first_rows: dict[str, int] = field(default_factory=dict)   # SKU -> its first row, for SKUs that repeat


def stage_stream(conn: Connection, parsed: ParsedFile, chunks: Iterable[RowChunk], sku_column: str | None,
                 *, delta: bool = False, quantity_column: str | None = None) -> StagedRows:
    """Create the staged tables and write every chunk into them as it comes; then settle the repeated SKUs
    (their issues go into `parsed.issues`, in the parser's order; a `delta` file's repeats are added up, each
    quoting its `quantity_column` cell as written). When the parse turns out rejected the tables are left
    for `drop_staged`, which the caller runs either way."""
    drop_staged(conn)
    staged = StagedRows(list(parsed.quantities))
    postgres = conn.dialect.name == "postgresql"
    integer = "BIGINT" if postgres else "INTEGER"
    names = [f"q{k}" for k in range(len(staged.columns))]
    drop = " ON COMMIT DROP" if postgres else ""
    run(conn, f"CREATE TEMP TABLE {TABLE} (seq {integer} PRIMARY KEY, file_row {integer}, sku TEXT NOT NULL, "
              f"title TEXT, suspect TEXT{''.join(f', {name} {integer}' for name in names)}"
              f"{', t0 TEXT' if delta else ''}){drop}")
    run(conn, f"CREATE TEMP TABLE {FAILED} (file_row {integer}, sku TEXT NOT NULL, repeatable INTEGER){drop}")
    write = copy_rows if postgres else insert_rows
    seq = 0
    ascending, last = True, None   # so far every SKU greater than the one before: none can repeat
    for chunk in chunks:
        count = len(chunk.skus)
        if ascending:
            ascending, last = _ascending(chunk, last)
        if count:
            suspects = chunk.suspects
            titles = storable_titles(chunk.titles)
            staged.titles = staged.titles or any(titles)
            quantities = [chunk.quantities[key] for key in staged.columns]
            texts = [chunk.texts or [None] * count] if delta else []   # a delta file's first cells as written
            extra = ["t0"] if delta else []
            if postgres:
                write(conn, TABLE, ["seq", "file_row", "sku", "title", "suspect", *names, *extra],
                      zip(range(seq + 1, seq + count + 1), chunk.row_numbers, chunk.skus, titles,
                          map(suspects.get, chunk.skus) if suspects else [None] * count, *quantities, *texts),
                      count)
            elif suspects:   # SQLite: seq is the rowid, which counts on from the last row inserted (1, 2, ...)
                write(conn, TABLE, ["file_row", "sku", "title", "suspect", *names, *extra],
                      zip(chunk.row_numbers, chunk.skus, titles, map(suspects.get, chunk.skus), *quantities,
                          *texts), count)
            else:            # (and a suspect is NULL unless given: fewer values to bind)
                write(conn, TABLE, ["file_row", "sku", "title", *names, *extra],
                      zip(chunk.row_numbers, chunk.skus, titles, *quantities, *texts), count)
            seq += count
        if chunk.failed:
            write(conn, FAILED, ["file_row", "sku", "repeatable"],
                  ((row, sku, int(repeatable)) for row, sku, repeatable in chunk.failed), len(chunk.failed))
    if parsed.rejected:
        return staged
    if postgres:
        run(conn, f"ANALYZE {TABLE}")
    if ascending:      # strictly increasing SKUs: none repeats, nothing to settle or add up
        staged.kept = seq
    elif delta:
        staged.kept = seq - _sum_repeats(conn, parsed, staged, quantity_column)
    else:
        staged.kept = seq - _settle_repeats(conn, parsed, staged, sku_column)
    return staged


def _ascending(chunk: RowChunk, last: str | None) -> tuple[bool, str | None]:
    """(whether the chunk's kept SKUs strictly increase, from above `last`, and it has no failed row that takes
    part in the repeated-SKU check; the chunk's last SKU). A file in SKU order (StockGate's own template is
    written along the SKU index) then needs no search for repeated SKUs: strictly increasing means distinct.
    Checked at C speed: sorting a sorted list is one pass, and a set tells equal neighbours apart."""
    skus = chunk.skus
    if any(repeatable for _, _, repeatable in chunk.failed):
        return False, last
    if not skus:
        return True, last
    if (last is not None and not last < skus[0]) or skus != sorted(skus) or len(set(skus)) != len(skus):
        return False, last
    return True, skus[-1]


def _sum_repeats(conn: Connection, parsed: ParsedFile, staged: StagedRows, column: str | None) -> int:
    """A `delta` file: every row is a movement, so a SKU's kept rows add up into its first kept row, in the
    database (`sum`, NULL where all are empty, as the parser adds), each later row with a DUPLICATE_SKU_SUMMED
    quoting its cell as written; rows with an error take no part. Returns how many kept rows were added to
    another (and dropped)."""
    if staged.titles and run(conn, f"SELECT 1 FROM {FAILED} WHERE repeatable = 1 LIMIT 1"):
        # the parser keeps no title for a SKU whose first kept row follows one of its rows with an error
        run(conn, f"CREATE INDEX {FAILED}_sku ON {FAILED} (sku)")
        run(conn, f"UPDATE {TABLE} SET title = NULL WHERE title IS NOT NULL AND EXISTS (SELECT 1 FROM {FAILED} x "
                  f"WHERE x.sku = {TABLE}.sku AND x.repeatable = 1 AND x.file_row < {TABLE}.file_row)")
    count = len(staged.columns)
    sums = "".join(f", sum(q{k}) AS q{k}" for k in range(count))
    run(conn, f"CREATE TEMP TABLE {REPEATS} AS SELECT sku, min(seq) AS first{sums} FROM {TABLE} GROUP BY sku "
              "HAVING count(*) > 1")
    try:
        if not run(conn, f"SELECT 1 FROM {REPEATS} LIMIT 1"):
            return 0
        run(conn, f"CREATE INDEX {REPEATS}_sku ON {REPEATS} (sku)")
        cursor = conn.connection.cursor()
        try:   # read a batch at a time: a file of movements may repeat every SKU
            cursor.execute(f"SELECT f.file_row, f.sku, f.t0, f.q0, g.file_row FROM {TABLE} f JOIN {REPEATS} r "
                           f"ON r.sku = f.sku JOIN {TABLE} g ON g.seq = r.first WHERE f.seq <> r.first ORDER BY f.seq")
            while batch := cursor.fetchmany(5000):
                for row, sku, text, value, first_row in batch:
                    staged.first_rows.setdefault(sku, first_row)
                    shown = text if text is not None else ("" if value is None else str(value))
                    parsed.list_or_count([make_issue("DUPLICATE_SKU_SUMMED", row=row, column=column, value=shown,
                                                     sku=sku, other_row=first_row, outcome="was added to it")],
                                         LISTED_ISSUES)
        finally:
            cursor.close()
        run(conn, f"UPDATE {TABLE} SET {', '.join(f'q{k} = r.q{k}' for k in range(count))} FROM {REPEATS} r "
                  f"WHERE {TABLE}.seq = r.first")
        dropped = run(conn, f"SELECT count(*) FROM {TABLE} f JOIN {REPEATS} r ON r.sku = f.sku WHERE f.seq <> r.first")
        run(conn, f"DELETE FROM {TABLE} WHERE EXISTS (SELECT 1 FROM {REPEATS} r WHERE r.sku = {TABLE}.sku "
                  f"AND r.first <> {TABLE}.seq)")
        parsed.issues.sort(key=_issue_row)
        return dropped[0][0]
    finally:
        run(conn, f"DROP TABLE IF EXISTS {REPEATS}")


def storable_titles(texts: list[str | None]) -> list[str | None]:
    """Each kept row's title as the items table keeps it (None: none); the parser's own form is storable
    as it is unless it is too long or not one line."""
    present = texts if None not in texts else [text for text in texts if text is not None]
    if not present:
        return texts
    # the parser's titles are stripped (`parsers.plain_rows.title_of`): printable, short and not empty is storable
    if all(present) and "".join(present).isprintable() and max(map(len, present)) <= TITLE_MAX_LENGTH:
        return texts
    return list(map(storable_title, texts))


def _settle_repeats(conn: Connection, parsed: ParsedFile, staged: StagedRows, sku_column: str | None) -> int:
    """Find the SKUs met more than once (kept rows and failed ones that name a valid SKU) and apply the
    parser's rules to each: a repeat that agrees with the SKU's first row is dropped with a warning; any
    other repeat makes the SKU conflicting, and every kept row of a conflicting SKU is dropped (it counts
    as failed, so a `full` snapshot never zeroes it). Returns how many kept rows were dropped."""
    run(conn, f"CREATE TEMP TABLE {REPEATS} AS SELECT sku FROM (SELECT sku FROM {TABLE} UNION ALL "
              f"SELECT sku FROM {FAILED} WHERE repeatable = 1) every_row GROUP BY sku HAVING count(*) > 1")
    try:
        if not run(conn, f"SELECT 1 FROM {REPEATS} LIMIT 1"):
            return 0
        count = len(staged.columns)
        values = ", ".join(f"f.q{k}" for k in range(count))
        nulls = ", ".join("NULL" for _ in range(count))
        rows = run(conn, f"SELECT f.sku, f.file_row, f.seq, {values} FROM {TABLE} f JOIN {REPEATS} r ON r.sku = f.sku "
                         f"UNION ALL SELECT x.sku, x.file_row, NULL, {nulls} FROM {FAILED} x JOIN {REPEATS} r "
                         "ON r.sku = x.sku WHERE x.repeatable = 1 ORDER BY 1, 2")
        dropped: list[int] = []
        conflicting: list[tuple[int, str]] = []
        for sku, group in groupby(rows, key=lambda row: row[0]):
            issues: list[Issue] = []
            errors = _one_sku(sku, list(group), sku_column, issues, dropped, conflicting, staged.first_rows)
            parsed.list_or_count(issues, LISTED_ISSUES, errors)
        _drop(conn, dropped, conflicting)
        parsed.issues.sort(key=_issue_row)   # stable: a row's own issues come before its repeat's
        return len(dropped)
    finally:
        run(conn, f"DROP TABLE IF EXISTS {REPEATS}")


def _issue_row(issue: Issue) -> int:
    return issue.row or 0


def _one_sku(sku: str, rows: list[tuple], sku_column: str | None, issues: list[Issue], dropped: list[int],
             conflicting: list[tuple[int, str]], first_rows: dict[str, int]) -> int:
    """The parser's rules for one SKU's rows (sku, file row, seq or None when the row failed, values...),
    in file order: what `parsers.rows._duplicate` decides row by row. Returns how many kept rows it turned
    into rows with an error (a failed row was counted by the parser)."""
    first = rows[0]
    first_row, first_values = first[1], first[3:]
    first_rows[sku] = first_row
    conflicted, agreed = False, set()
    for row in rows[1:]:
        number, seq = row[1], row[2]
        if seq is not None and first[2] is not None and not conflicted and row[3:] == first_values:
            issues.append(make_issue("DUPLICATE_SKU_AGREES", row=number, column=sku_column, value=sku, sku=sku,
                                     other_row=first_row, outcome=f"only row {first_row} counts"))
            agreed.add(seq)
            continue
        conflicted = True
        issues.append(make_issue("DUPLICATE_SKU", row=number, column=sku_column, value=sku, sku=sku,
                                 other_row=first_row))
        issues.append(make_issue("DUPLICATE_SKU", row=first_row, column=sku_column, value=sku, sku=sku,
                                 other_row=number))
    dropped.extend(agreed)
    if not conflicted:
        return 0
    kept = [row for row in rows if row[2] is not None and row[2] not in agreed]
    dropped.extend(row[2] for row in kept)
    conflicting.extend((row[1], sku) for row in kept)
    return len(kept)


def _drop(conn: Connection, seqs: list[int], failed: list[tuple[int, str]]) -> None:
    """Take the dropped rows out of the kept table; the conflicting ones join the failed rows."""
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    cursor = conn.connection.cursor()
    try:
        for start in range(0, len(seqs), 5000):
            cursor.executemany(f"DELETE FROM {TABLE} WHERE seq = {mark}", [(s,) for s in seqs[start:start + 5000]])
        if failed:
            cursor.executemany(f"INSERT INTO {FAILED} (file_row, sku, repeatable) VALUES ({mark}, {mark}, 0)", failed)
    finally:
        cursor.close()
