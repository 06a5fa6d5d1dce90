"""The Quantity Update template: every SKU, its title and its current quantity per warehouse; an FTP
account's template holds only its warehouses and the SKUs stocked in them or created by its own files.

XLSX cells holding SKUs and titles are typed as text (number format `@`, string cells), so `00123` keeps
its zeros through a spreadsheet and a value starting with `=` never becomes a formula. The CSV is UTF-8
with a BOM; a SKU or title a spreadsheet would run is written with a leading `'` in a quoted cell
(`parsers.formula_cells`); the parsers read that form back, so a template sent back unchanged names the
very SKUs and titles it listed (and changes nothing).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from sqlalchemy import Connection, and_, func, or_, select

from gateway.db import schema
from gateway.errors import NotFoundError, UsageError
from gateway.filenames import fit_name, name_limit
from gateway.spreadsheet_csv import SpreadsheetCsvWriter
from gateway.stock import warehouses as all_warehouses
from parsers.formula_cells import neutralised

FORMATS = ("csv", "xlsx")
BATCH = 5000      # rows fetched from the database at a time


def template_rows(conn: Connection, codes: Sequence[str], *, account: str | None = None
                  ) -> tuple[list[str], Iterator[list]]:
    """The template's header and rows (SKU, Title, one quantity per warehouse; 0 where no level), the rows
    read lazily, `BATCH` at a time (a server-side cursor on PostgreSQL): consume them inside `conn`'s
    transaction; a million SKUs are never all in memory.

    Every SKU; with `account`, only the SKUs with a stock level in one of `codes` or created by a file
    that account sent.
    """
    known = all_warehouses(conn)
    ids = [known[code].id for code in codes]
    i, f = schema.items.c, schema.files.c
    # one row per item: its level in each column's warehouse by primary key (item_id, warehouse_id), read in
    # SKU order along the SKU index: nothing sorted, nothing gathered
    levels = [schema.stock_levels.alias(f"l{n}") for n in range(len(ids))]
    source = schema.items
    for level, wh in zip(levels, ids):
        source = source.outerjoin(level, and_(level.c.item_id == i.id, level.c.warehouse_id == wh))
    query = (select(i.sku, i.title, *[func.coalesce(level.c.on_hand, 0) for level in levels])
             .select_from(source).order_by(i.sku))
    if account is not None:
        s = schema.stock_levels.c
        stocked = select(s.item_id).where(s.warehouse_id.in_(ids))
        created = select(f.file_id).where(f.account == account)
        query = query.where(or_(i.id.in_(stocked), i.created_by_file.in_(created)))

    def rows() -> Iterator[list]:
        for sku, title, *quantities in conn.execution_options(yield_per=BATCH).execute(query):
            yield [sku, title or "", *quantities]

    return ["SKU", "Title", *codes], rows()


def _write_csv(path: Path, header: list[str], rows: Iterable[list]) -> int:
    # UTF-8 with a BOM: how Excel knows the file is UTF-8 (without it `Ünï` opens as `ÃœnÃ¯`)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        # SKUs and titles come from files and marketplaces: never a live formula when the template is opened
        writer = SpreadsheetCsvWriter(fh)
        writer.writerow(header)
        count = 0
        for count, row in enumerate(rows, 1):
            writer.writerow(row)
    return count


def _write_xlsx(path: Path, header: list[str], rows: Iterable[list]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Quantity Update")
    sheet.column_dimensions["A"].number_format = "@"

    def text(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"          # a string cell even when it starts with '=' (never a formula)
        cell.number_format = "@"      # typed as text: what is typed into it later stays text too
        return cell

    sheet.append([text(name) for name in header])
    count = 0
    for count, (sku, title, *quantities) in enumerate(rows, 1):
        # a string cell never runs; only a SKU or title that itself starts with `'` before a dangerous text
        # is written neutralised, so that reading it back (which drops one such `'`) gives it again
        sheet.append([text(_as_read_back(sku)), text(_as_read_back(title)), *quantities])
    workbook.save(path)     # write-only: each row went to the sheet's part as it was appended
    return count


def _as_read_back(value: str) -> str:
    return neutralised(value) if value.startswith("'") else value


def write_template(conn: Connection, path: Path, *, fmt: str = "csv", warehouses: Sequence[str] | None = None,
                   account: str | None = None) -> int:
    """Write the Quantity Update template to `path` (atomically) as CSV or XLSX; return the number of SKUs.
    Streamed: rows come from the database a batch at a time and are written as they come, into a
    temporary file beside `path` that is then renamed over it.

    `warehouses` picks and orders the warehouse columns (default: every warehouse, by priority); `account`
    limits the rows to what that FTP account may see (see `template_rows`).
    """
    if fmt not in FORMATS:
        raise UsageError(f"template format {fmt!r} is not one of {', '.join(FORMATS)}")
    known = all_warehouses(conn)
    spelled = {code.casefold(): code for code in known}     # `west` is warehouse WEST, its column `WEST`
    codes = [spelled.get(code.casefold(), code) for code in warehouses] if warehouses is not None else list(known)
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise NotFoundError(f"unknown warehouse {unknown[0]!r} (known: {', '.join(known)})")
    header, rows = template_rows(conn, codes, account=account)
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; give a file name such as {path / 'template.csv'}")
    tmp = path.with_name(fit_name(path.name, before=".", after=".tmp", limit=name_limit(path.parent)))
    try:
        count = (_write_xlsx if fmt == "xlsx" else _write_csv)(tmp, header, rows)
        os.replace(tmp, path)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)   # after a failure; after success it is already renamed
    return count
