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
                 ) -> StagedRows:
    """Create the staged tables and write every chunk into them as it comes; then settle the repeated SKUs
    (their issues go into `parsed.issues`, in the parser's order). When the parse turns out rejected the
    tables are left for `drop_staged`, which the caller runs either way."""
    drop_staged(conn)
    staged = StagedRows(list(parsed.quantities))
    postgres = conn.dialect.name == "postgresql"
    integer = "BIGINT" if postgres else "INTEGER"
    names = [f"q{k}" for k in range(len(staged.columns))]
    drop = " ON COMMIT DROP" if postgres else ""
    run(conn, f"CREATE TEMP TABLE {TABLE} (seq {integer} PRIMARY KEY, file_row {integer}, sku TEXT NOT NULL, "
              f"title TEXT, suspect TEXT{''.join(f', {name} {integer}' for name in names)}){drop}")
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
            if postgres:
                write(conn, TABLE, ["seq", "file_row", "sku", "title", "suspect", *names],
                      zip(range(seq + 1, seq + count + 1), chunk.row_numbers, chunk.skus, titles,
                          map(suspects.get, chunk.skus) if suspects else [None] * count, *quantities), count)
            elif suspects:   # SQLite: seq is the rowid, which counts on from the last row inserted (1, 2, ...)
                write(conn, TABLE, ["file_row", "sku", "title", "suspect", *names],
                      zip(chunk.row_numbers, chunk.skus, titles, map(suspects.get, chunk.skus), *quantities), count)
            else:            # (and a suspect is NULL unless given: fewer values to bind)
                write(conn, TABLE, ["file_row", "sku", "title", *names],
                      zip(chunk.row_numbers, chunk.skus, titles, *quantities), count)
            seq += count
        if chunk.failed:
            write(conn, FAILED, ["file_row", "sku", "repeatable"],
                  ((row, sku, int(repeatable)) for row, sku, repeatable in chunk.failed), len(chunk.failed))
    if parsed.rejected:
        return staged
    if postgres:
        run(conn, f"ANALYZE {TABLE}")
    staged.kept = seq if ascending else seq - _settle_repeats(conn, parsed, staged, sku_column)
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
