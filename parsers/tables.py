"""Bytes to a header and rows of text: format detection, encodings, delimiter sniffing, CSV reading.

A file that cannot be read at all raises TableReadError carrying the file-level issue; everything
else is data. XLSX reading lives in parsers.xlsx_reader.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from parsers.csv_table import BLOCK, Opener, header_and_rows, mark_utf8_rows, numbered_rows, opener_of, scan, size_of
from parsers.issues import Issue, make_issue
from parsers.model import ParseOptions

DELIMITERS = (",", ";", "\t", "|")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FOREIGN_MAGIC = {
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
}
_EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_NOT_SPACE = re.compile(rb"\S")
_LINE = re.compile(r"([^\r\n]*)(?:\r\n|\r|\n|$)")


class TableReadError(Exception):
    """The file cannot be read at all; `issue` says why in the report's words."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


@dataclass
class Table:
    """A header and an iterator of (spreadsheet row number, cells as text).

    Blank rows are still yielded (the caller skips them, so row numbers match the spreadsheet).
    `cell_notes` (XLSX) maps row -> {column index: reason} for numbers and dates that would look
    mangled as a SKU; `formula_cells` and `error_cells` map row -> {column index: text} for formulas
    without a cached value and spreadsheet error values. `utf8_rows` (CSV read as Windows-1252) maps
    each row whose non-ASCII bytes are valid UTF-8 to its line in the file; it fills as rows are read.
    `unterminated_end` (CSV): the last record `rows` yields may lack its line end, so when it is a
    data row that is not blank it may have been cut off (TRUNCATED_ROW). Iterating `rows` may raise
    one of `read_errors` when the file turns out to be damaged part-way.
    """

    format: str
    header: list[str]
    header_row: int
    rows: Iterator[tuple[int, list[str]]]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    first_column: int = 0  # XLSX: 0-based spreadsheet column of the table's first cell
    issues: list[Issue] = field(default_factory=list)
    cell_notes: dict[int, dict[int, str]] = field(default_factory=dict)
    formula_cells: dict[int, dict[int, str]] = field(default_factory=dict)
    error_cells: dict[int, dict[int, str]] = field(default_factory=dict)
    utf8_rows: dict[int, int] = field(default_factory=dict)
    unterminated_end: bool = False
    read_errors: tuple[type[Exception], ...] = ()  # raised while iterating rows: the file is unreadable
    close: Callable[[], None] | None = None  # releases what `rows` reads from, once read (or given up)
    last_row: int | None = None  # the last row's number as far as known before reading (for progress only)


def read_table(data: bytes | Opener, name: str, options: ParseOptions = ParseOptions(),
               knows_header: Callable[[list[str]], bool] | None = None) -> Table:
    """Read a CSV or XLSX file (its bytes, or an Opener of them) into a Table; the format comes from the
    content, not the name. A CSV file is read a block at a time, never held whole.

    `knows_header` tells the delimiter sniffer whether a candidate header has the columns it needs.
    Raises TableReadError when the file is unreadable, unsupported, too large or unsafe.
    """
    open_bytes = opener_of(data)
    size = size_of(open_bytes)
    if size > options.max_bytes:
        raise TableReadError(make_issue("FILE_TOO_LARGE", size=size, limit=options.max_bytes))
    with open_bytes() as stream:
        start = stream.read(len(_OLE2_MAGIC))
    if start.startswith(b"PK\x03\x04") or start.startswith(b"PK\x05\x06"):
        from parsers.xlsx_reader import read_xlsx  # calamine is loaded only when a workbook arrives

        if not isinstance(data, (bytes, bytearray, memoryview)):
            with open_bytes() as stream:   # a workbook is read whole (its size is bounded by the limits)
                data = stream.read()
        return read_xlsx(data, options)
    if start.startswith(_OLE2_MAGIC):
        raise TableReadError(make_issue(
            "UNSUPPORTED_FILE_TYPE", what="an Excel 97-2003 (.xls) or password-protected workbook"))
    for magic, what in _FOREIGN_MAGIC.items():
        if start.startswith(magic):
            raise TableReadError(make_issue("UNSUPPORTED_FILE_TYPE", what=what))
    if name.lower().endswith(_EXCEL_SUFFIXES) and _has_text(open_bytes):
        raise TableReadError(make_issue(
            "UNREADABLE_FILE", reason=f"it is named {name.rsplit('.', 1)[-1]!r} but is not a zip archive, "
                                      "so not an Excel workbook (renamed file?)"))
    return read_csv_stream(open_bytes, knows_header, options.max_columns)


def _has_text(open_bytes) -> bool:
    """Whether the bytes hold anything but white space."""
    with open_bytes() as stream:
        while block := stream.read(BLOCK):
            if _NOT_SPACE.search(block):
                return True
    return False


def _first_line(text: str) -> tuple[str, int]:
    """The first non-blank physical line and its 1-based line number (LF, CRLF or CR line ends)."""
    for number, line in enumerate(_LINE.finditer(text), 1):
        if line.group(1).strip():
            return line.group(1), number
    return "", 0


def _count_outside_quotes(line: str, delimiter: str) -> int:
    if '"' not in line:
        return line.count(delimiter)
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def sniff_delimiter(header_line: str, knows_header: Callable[[list[str]], bool] | None = None,
                    max_columns: int | None = None) -> str:
    """Pick the delimiter among , ; tab | from the header line.

    The most frequent one wins, unless a less frequent one splits the header into columns
    `knows_header` recognises (a `;` file whose titles contain commas). A split into more than
    `max_columns` columns is not offered to `knows_header` (the file is refused either way).
    """
    counts = {d: _count_outside_quotes(header_line, d) for d in DELIMITERS}
    ranked = sorted((d for d in DELIMITERS if counts[d]), key=lambda d: -counts[d])
    if knows_header is not None:
        for delimiter in ranked:
            if max_columns is not None and counts[delimiter] >= max_columns:
                continue
            cells = next(csv.reader([header_line], delimiter=delimiter, strict=False), [])
            if knows_header([c.strip() for c in cells]):
                return delimiter
    return ranked[0] if ranked else ","


def read_csv(data: bytes, knows_header: Callable[[list[str]], bool] | None = None,
             max_columns: int | None = None) -> Table:
    """Read CSV bytes into a Table of text cells (see `read_csv_stream`)."""
    return read_csv_stream(opener_of(data), knows_header, max_columns)


def read_csv_stream(open_bytes: Opener, knows_header: Callable[[list[str]], bool] | None = None,
                    max_columns: int | None = None) -> Table:
    """Read CSV into a Table of text cells (nothing converted: `00123`, `NA` stay as written), a block at
    a time from `open_bytes` (called once to scan the bytes, once to read the rows).

    A header of more than `max_columns` cells is refused (TOO_MANY_COLUMNS) before any row is read.
    """
    scanned = scan(open_bytes)
    if scanned.head[:4096].lstrip().startswith("<"):
        raise TableReadError(make_issue(
            "UNSUPPORTED_FILE_TYPE", what="an HTML or XML document (an old 'Excel' web export?)"))
    header_line, header_row = _first_line(scanned.head)
    if not header_line:
        raise TableReadError(make_issue("EMPTY_FILE"))
    delimiter = sniff_delimiter(header_line, knows_header, max_columns)
    reader, stream, unterminated_end = header_and_rows(open_bytes, scanned, delimiter)
    table = Table("csv", [], header_row, iter(()), encoding=scanned.encoding, delimiter=delimiter,
                  issues=scanned.issues, unterminated_end=unterminated_end, read_errors=(csv.Error,),
                  last_row=max(scanned.line_feeds, scanned.returns) + unterminated_end)   # quoted line ends: more
    try:
        for _ in range(header_row - 1):
            next(reader)
        table.header = [cell.strip() for cell in next(reader)]
    except csv.Error as exc:
        stream.close()
        raise TableReadError(make_issue("UNREADABLE_FILE", reason=f"the header is not valid CSV ({exc})")) from None
    if max_columns is not None and len(table.header) > max_columns:
        stream.close()
        raise TableReadError(make_issue("TOO_MANY_COLUMNS", what="the header", count=len(table.header),
                                        limit=max_columns))
    if scanned.encoding == "cp1252":
        table.rows = mark_utf8_rows(numbered_rows(reader, stream, header_row + 1), reader, scanned.utf8_lines,
                                    table.utf8_rows)
    else:   # numbered at C speed (a generator's frame per row cost more than a third of reading the row)
        table.rows, table.close = enumerate(reader, header_row + 1), stream.close
    return table
