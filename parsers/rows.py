"""The row loop both file kinds share: SKU and quantity rules, duplicates, as_of, a cut-off last row,
columnar output.

Chunks of plainly valid rows are taken whole by `parsers.plain_rows`; any other chunk comes here row by
row, where the slower rule functions run only when the plain-digits fast path does not apply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from parsers.cells import (
    LOST_DIGITS,
    as_utf8,
    lost_digits,
    parse_as_of,
    parse_quantity,
    printable,
    sku_problem,
    sku_text_looks_mangled,
)
from parsers.columns import spreadsheet_column
from parsers.formula_cells import read_back
from parsers.issues import LISTED_ISSUES, make_issue, shown
from parsers.model import ParsedFile, RowChunk
from parsers.plain_rows import CHUNK_ROWS, PlainChunks, title_of
from parsers.tables import Table


@dataclass
class RowLayout:
    """Which column is which, decided from the header before the rows are read."""

    sku: int
    quantities: list[tuple[int, str]]  # (column index, output key)
    as_of: int | None = None
    unnamed: list[int] = field(default_factory=list)  # QU columns without a header: must stay empty
    check_extra_cells: bool = False  # QU: cells beyond the header are values in an unnamed column
    empty_is_error: bool = False  # stock files need a quantity on every row
    signed: bool = False  # delta mode
    title: int | None = None  # the column of item titles (informational)


def collect_rows(table: Table, layout: RowLayout, parsed: ParsedFile,
                 progress: Callable[[int, int | None], None] | None = None) -> None:
    """Validate every data row of `table` into `parsed` (columns, failed SKUs, issues, as_of); `progress`, when
    given, is told (rows read, rows in the file if known) after each chunk of rows."""
    for _ in iter_rows(table, layout, parsed, progress):
        pass


def iter_rows(table: Table, layout: RowLayout, parsed: ParsedFile,
              progress: Callable[[int, int | None], None] | None = None,
              chunk_rows: int | None = None) -> Iterator[RowChunk]:
    """`collect_rows`, or with `chunk_rows` the kept and failed rows handed over as RowChunks of about that
    many rows (`parsed` keeps the issues, counts and as_of; its columns stay empty), without looking for
    repeated SKUs: nothing here grows with the file but its issues. The table's source is closed once its
    rows are read, or when the chunks are given up."""
    try:
        yield from _iter_rows(table, layout, parsed, progress, chunk_rows)
    finally:
        if table.close is not None:
            table.close()


def _iter_rows(table: Table, layout: RowLayout, parsed: ParsedFile,
               progress: Callable[[int, int | None], None] | None, chunk_rows: int | None) -> Iterator[RowChunk]:
    stream = chunk_rows is not None
    parsed.streamed = stream
    failed_rows: list[tuple[int, str, bool]] = []
    header = table.header
    width = len(header)
    sku_index, as_of_index, signed = layout.sku, layout.as_of, layout.signed
    empty_is_error, unnamed = layout.empty_is_error, layout.unnamed
    watch_unnamed = bool(unnamed) or layout.check_extra_cells
    extra_from = width if layout.check_extra_cells else 1 << 30
    sku_column = header[sku_index]
    quantity_indexes = [index for index, _ in layout.quantities]
    used_columns = {sku_index, *quantity_indexes}
    columns = [parsed.quantities.setdefault(key, []) for _, key in layout.quantities]
    pairs = [(index, column.append) for index, column in zip(quantity_indexes, columns)]
    need = max([width, sku_index + 1, *(i + 1 for i in quantity_indexes), (as_of_index or 0) + 1,
                (layout.title or 0) + 1])
    title_index, titles = layout.title, parsed.row_titles
    row_numbers, skus, issues, failed_skus = parsed.row_numbers, parsed.skus, parsed.issues, parsed.failed_skus
    suspect = parsed.suspect_skus
    notes = table.cell_notes  # filled by the XLSX reader as rows are read, so tested per row
    utf8_rows = table.utf8_rows  # filled by the CSV reader as rows are read (Windows-1252 files)
    special = bool(table.formula_cells or table.error_cells)
    seen: dict[str, int] = {}  # sku -> output index when kept, or -(row number) when its row failed
    remember = seen.setdefault
    conflicted: set[str] = set()
    as_of = _AsOf(header[as_of_index] if as_of_index is not None else "")
    unnamed_found: list = []
    last_summed: list = [None]   # delta: (row number, output index, values) of the last row added to another
    texts: list | None = [] if stream and signed else None   # streamed delta: the first quantity cell as written
    first_quantity = quantity_indexes[0] if quantity_indexes else None
    total = 0
    row_number = table.header_row
    plain = PlainChunks(table, layout, parsed, seen, as_of, repeats=not stream)
    rows, failure, last = table.rows, None, None
    progress = _row_progress(table, progress)
    while failure is None:
        if last is not None and progress is not None:
            progress(last[0])
        chunk: list = []
        try:
            chunk.extend(islice(rows, CHUNK_ROWS))   # rows read before a read error stay in the chunk
        except table.read_errors as exc:
            failure = exc
        if not chunk:
            break
        if stream and len(skus) + len(failed_rows) >= chunk_rows:
            yield _hand_over(parsed, failed_rows, texts)
        last = chunk[-1]
        while chunk and not "".join(chunk[-1][1]).strip():
            chunk.pop()   # blank rows at the end of a chunk (a file's last lines) change nothing
        if not chunk or plain.take(chunk):
            if texts is not None and chunk:
                values = parsed.quantities[layout.quantities[0][1]][-len(chunk):]
                texts.extend(map(unusual_text, (cells[first_quantity] for _, cells in chunk), values))
            total += len(chunk)
            row_number = last[0]
            continue
        plain.hand_over()
        for row_number, cells in chunk:
            length = len(cells)
            if length < need:
                cells.extend([""] * (need - length))
            sku = cells[sku_index].strip()
            if sku[:1] == "'":
                sku = read_back(sku).strip()  # StockGate's neutralised form (a template sent back)
            if not sku and not "".join(cells).strip():
                continue  # a blank row: skipped, but it keeps its number
            total += 1
            row_issues = []
            sku_valid = True
            if not (0 < len(sku) <= 100 and sku.isprintable()):
                problem = sku_problem(sku)
                if problem:
                    sku_valid = False
                    row_issues.append(make_issue("INVALID_SKU", row=row_number, column=sku_column,
                                                 value=printable(sku), sku=printable(sku), reason=problem))
            position = len(skus)
            for index, append in pairs:
                text = cells[index]
                if text.isdigit() and len(text) < 10 and text.isascii():
                    append(int(text))
                elif not text and not empty_is_error:
                    append(None)
                else:
                    quantity, code = parse_quantity(text, signed=signed)
                    if code:
                        row_issues.append(make_issue(code, row=row_number, column=header[index], value=text, sku=sku))
                    elif quantity is None and empty_is_error:
                        row_issues.append(make_issue("EMPTY_QUANTITY", row=row_number, column=header[index],
                                                     value=text, sku=sku))
                    append(quantity)
            if special or notes:
                _special_cells(table, row_number, sku, sku_index, used_columns, row_issues, suspect)
            if utf8_rows and row_number in utf8_rows:
                row_issues.append(_mixed_encoding(header, row_number, cells, sku))
            if "+" in sku:
                reason = sku_text_looks_mangled(sku)
                if reason:
                    suspect[sku] = reason
            if watch_unnamed and not unnamed_found and (unnamed or length > extra_from):
                _unnamed_values(table, row_number, cells, unnamed, extra_from, unnamed_found, sku)
            if as_of_index is not None:
                as_of.see(row_number, cells[as_of_index])
            if stream:
                if not row_issues:
                    row_numbers.append(row_number)
                    skus.append(sku)
                    if title_index is not None:
                        titles.append(title_of(cells[title_index]))
                    if texts is not None:
                        texts.append(unusual_text(cells[first_quantity], columns[0][-1]))
                    continue
            elif sku_valid:
                mark = -row_number if row_issues else position
                previous = remember(sku, mark)
                if previous == mark:
                    if not row_issues:
                        row_numbers.append(row_number)
                        skus.append(sku)
                        if title_index is not None:
                            titles.append(title_of(cells[title_index]))
                        continue
                elif signed:   # delta: every row is a movement, a repeated SKU's rows add up
                    if not row_issues:
                        if previous < 0:   # its earlier rows failed: this is the SKU's first kept row
                            seen[sku] = position
                            row_numbers.append(row_number)
                            skus.append(sku)
                            if title_index is not None:
                                titles.append(None)   # (as before: a delta row's title is not kept here)
                        else:
                            index = quantity_indexes[0]
                            last_summed[0] = _add_movement(sku, row_number, previous, position, columns,
                                                           row_numbers, header[index], cells[index].strip(),
                                                           issues)
                        continue
                elif _duplicate(sku, row_number, previous, position, columns, row_numbers, conflicted,
                                sku_column, row_issues, issues):
                    continue
            for column in columns:
                del column[position:]
            if stream:   # a row's issues are listed or counted together, so its error is counted once
                parsed.list_or_count(row_issues, LISTED_ISSUES)
            else:
                issues.extend(row_issues)
            if sku and stream:
                failed_rows.append((row_number, sku, sku_valid))
            elif sku:
                failed_skus.add(sku)
        plain.taken_back(chunk)
        row_number = last[0]
    if failure is not None:
        parsed.reject(make_issue("UNREADABLE_FILE", row=row_number + 1,
                                 reason=f"row {row_number + 1} cannot be read ({failure})"))
    elif table.unterminated_end and last is not None and last[0] > table.header_row:
        _truncated_row(table, layout, parsed, last, as_of, last_summed[0], failed_rows if stream else None, texts)
    _finish(parsed, total, conflicted, unnamed_found, as_of)
    if stream and not parsed.rejected and (skus or failed_rows):
        yield _hand_over(parsed, failed_rows, texts)


def unusual_text(cell: str, value: int | None) -> str | None:
    """A delta row's first quantity cell as written (`+5`, `007`) when it is not the plain form of its value
    (`5`, `-3`, empty), else None: DUPLICATE_SKU_SUMMED quotes it."""
    text = cell.strip()
    return None if text == ("" if value is None else str(value)) else text


def _hand_over(parsed: ParsedFile, failed_rows: list, texts: list | None = None) -> RowChunk:
    """The rows kept and failed since the last chunk, as a RowChunk; `parsed`, `failed_rows` and `texts` are
    emptied in place (the row loop holds on to their lists)."""
    chunk = RowChunk(list(parsed.row_numbers), list(parsed.skus), {k: list(v) for k, v in parsed.quantities.items()},
                     list(parsed.row_titles) or [None] * len(parsed.skus), dict(parsed.suspect_skus),
                     list(failed_rows), list(texts) if texts is not None else None)
    for values in (parsed.row_numbers, parsed.skus, parsed.row_titles, failed_rows, *parsed.quantities.values(),
                   *([texts] if texts is not None else [])):
        values.clear()
    parsed.suspect_skus.clear()
    return chunk


def _row_progress(table: Table, report: Callable[[int, int | None], None] | None):
    """A function telling `report` (rows read, rows in the file) from the last row number read, or None when
    nobody asked (`ParseOptions.progress`)."""
    if report is None:
        return None
    header = table.header_row
    total = table.last_row - header if table.last_row and table.last_row > header else None
    return lambda row_number: report(row_number - header, total)


def _truncated_row(table: Table, layout: RowLayout, parsed: ParsedFile, last: tuple[int, list[str]],
                   as_of: _AsOf, summed: tuple | None = None, failed_rows: list | None = None,
                   texts: list | None = None) -> None:
    """The file's last record has no line end: unless it is blank, take it back and report it.

    It went through the row loop like any row (so the loop needs no look-ahead); nothing after it can
    depend on it, so taking it back is removing the last kept row and forgetting its as_of.
    """
    row_number, cells = last
    if not "".join(cells).strip():
        return   # a blank last line is not a row
    if parsed.row_numbers and parsed.row_numbers[-1] == row_number:   # kept: take it back (a row with an
        parsed.row_numbers.pop()                                      # error is in failed_skus already)
        if parsed.row_titles:
            parsed.row_titles.pop()
        if texts:
            texts.pop()
        if failed_rows is not None:
            failed_rows.append((row_number, parsed.skus.pop(), False))
        else:
            parsed.failed_skus.add(parsed.skus.pop())
        for values in parsed.quantities.values():
            values.pop()
    elif summed is not None and summed[0] == row_number:   # a delta row added to an earlier one: take it out
        _, position, added = summed
        for values, value in zip(parsed.quantities.values(), added):
            if value is not None:
                values[position] -= value
        parsed.issues = [i for i in parsed.issues if not (i.row == row_number and i.code == "DUPLICATE_SKU_SUMMED")]
    as_of.forget(row_number)
    while cells and not cells[-1].strip():
        cells = cells[:-1]
    parsed.issues.append(make_issue("TRUNCATED_ROW", row=row_number, column=table.header[layout.sku],
                                    value=(table.delimiter or ",").join(cells),
                                    sku=cells[layout.sku].strip() if layout.sku < len(cells) else ""))


def _add_movement(sku: str, row_number: int, previous: int, position: int, columns: list[list],
                  row_numbers: list[int], column_name: str, text: str, issues: list) -> tuple:
    """Delta: add a repeated SKU's row (at `position`) to its first kept row (at `previous`), with an
    info issue; (row number, output index, values added), so a cut-off last row can be taken out again."""
    added = []
    for column in columns:
        value = column[position]
        added.append(value)
        if value is not None:
            column[previous] = value if column[previous] is None else column[previous] + value
        del column[position:]
    first_row = row_numbers[previous]
    issues.append(make_issue("DUPLICATE_SKU_SUMMED", row=row_number, column=column_name, value=text, sku=sku,
                             other_row=first_row, outcome="was added to it"))
    return row_number, previous, added


def _duplicate(sku: str, row_number: int, previous: int, position: int, columns: list[list],
               row_numbers: list[int], conflicted: set[str], sku_column: str,
               row_issues: list, issues: list) -> bool:
    """Handle a SKU seen before. True when the row merely repeats the first one (warn, skip it)."""
    first_row = row_numbers[previous] if previous >= 0 else -previous
    agrees = (not row_issues and previous >= 0 and sku not in conflicted
              and all(column[previous] == column[position] for column in columns))
    if agrees:
        for column in columns:
            del column[position:]
        issues.append(make_issue("DUPLICATE_SKU_AGREES", row=row_number, column=sku_column,
                                 value=sku, sku=sku, other_row=first_row, outcome=f"only row {first_row} counts"))
        return True
    conflicted.add(sku)
    row_issues.append(make_issue("DUPLICATE_SKU", row=row_number, column=sku_column,
                                 value=sku, sku=sku, other_row=first_row))
    issues.append(make_issue("DUPLICATE_SKU", row=first_row, column=sku_column,
                             value=sku, sku=sku, other_row=row_number))
    return False


def _finish(parsed: ParsedFile, total: int, conflicted: set[str], unnamed_found: list, as_of: _AsOf) -> None:
    parsed.total_rows = total
    if conflicted:
        _drop_skus(parsed, conflicted)
    if not parsed.streamed:   # the kept rows' titles by SKU, in file order
        if parsed.row_titles:
            parsed.titles = {sku: title for sku, title in zip(parsed.skus, parsed.row_titles) if title}
        parsed.row_titles = []
    parsed.issues.sort(key=lambda issue: issue.row or 0)
    for issue in unnamed_found[:1] + as_of.problems[:1]:
        parsed.reject(issue)
    if as_of.moment is not None and not parsed.rejected:
        parsed.as_of = as_of.moment


def _special_cells(table: Table, row_number: int, sku: str, sku_index: int, used_columns: set[int],
                   row_issues: list, suspect: dict[str, str]) -> None:
    """Issues from what the XLSX reader noticed: uncached formulas, error values, SKUs read from number or
    date cells. A number of more than 15 significant digits has lost its tail: the row is an error; a
    SKU in another converted form is kept as a suspect (the pipeline refuses it unless the catalog has it)."""
    header = table.header
    for column, text in table.formula_cells.get(row_number, {}).items():
        if column in used_columns:
            row_issues.append(make_issue("UNCACHED_FORMULA", row=row_number, column=header[column], value=text,
                                         sku=sku))
    for column, text in table.error_cells.get(row_number, {}).items():
        if column in used_columns:
            row_issues.append(make_issue("CELL_ERROR", row=row_number, column=header[column], value=text, sku=sku))
    note = table.cell_notes.get(row_number, {}).get(sku_index)
    if note and lost_digits(sku):
        row_issues.append(make_issue("SKU_LOOKS_MANGLED", row=row_number, column=header[sku_index], value=sku,
                                     sku=sku, reason=note, known=LOST_DIGITS))
    elif note:
        suspect[sku] = note


def _mixed_encoding(header: list[str], row_number: int, cells: list[str], sku: str):
    """MIXED_ENCODING for a row whose text is UTF-8 in a file read as Windows-1252, at its first such cell."""
    index = next((i for i, cell in enumerate(cells) if not cell.isascii()), 0)
    column = header[index] if index < len(header) else None
    return make_issue("MIXED_ENCODING", row=row_number, column=column, value=cells[index], sku=sku,
                      utf8=shown(as_utf8(cells[index])))


def _unnamed_values(table: Table, row_number: int, cells: list[str], unnamed: list[int],
                    extra_from: int, found: list, sku: str) -> None:
    """Record the first value found in a column that has no header."""
    for index in [*unnamed, *range(extra_from, len(cells))]:
        if cells[index].strip():
            found.append(make_issue("UNNAMED_COLUMN", row=row_number, value=cells[index], sku=sku or None,
                                    position=spreadsheet_column(index + table.first_column)))
            return


def _drop_skus(parsed: ParsedFile, dropped: set[str]) -> None:
    """Remove every output row of the given SKUs (rows that turned out to be conflicting duplicates)."""
    keep = [index for index, sku in enumerate(parsed.skus) if sku not in dropped]
    parsed.row_numbers = [parsed.row_numbers[i] for i in keep]
    parsed.skus = [parsed.skus[i] for i in keep]
    parsed.quantities = {key: [values[i] for i in keep] for key, values in parsed.quantities.items()}
    if parsed.row_titles:
        parsed.row_titles = [parsed.row_titles[i] for i in keep]


class _AsOf:
    """Reads the as_of column: every row that fills it must name the same moment."""

    def __init__(self, column: str) -> None:
        self.column = column
        self.text: str | None = None
        self.row: int | None = None
        self.moment = None
        self.problems: list = []

    def forget(self, row_number: int) -> None:
        """Undo what the row `row_number` (the last one read) taught: its moment or its problem."""
        self.problems = [problem for problem in self.problems if problem.row != row_number]
        if self.row == row_number:
            self.moment = self.text = self.row = None

    def see(self, row_number: int, raw: str) -> None:
        """Take one row's as_of cell into account."""
        text = raw.strip()
        if not text or text == self.text or self.problems:
            return
        moment = parse_as_of(text)
        if moment is None:
            self.problems.append(make_issue("INVALID_AS_OF", row=row_number, column=self.column, value=text,
                                            reason="is not an ISO-8601 date or time"))
        elif self.moment is None:
            self.moment, self.text, self.row = moment, text, row_number
        elif moment != self.moment:
            self.problems.append(make_issue(
                "INVALID_AS_OF", row=row_number, column=self.column, value=text,
                reason=f"differs from '{self.text}' on row {self.row}; every row must give the same as_of"))
