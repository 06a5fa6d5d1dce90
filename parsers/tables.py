"""Bytes to a header and rows of text: format detection, encodings, delimiter sniffing, CSV reading.

A file that cannot be read at all raises TableReadError carrying the file-level issue; everything
else is data. XLSX reading lives in parsers.xlsx_reader.
"""

from __future__ import annotations

import csv
import io
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain

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
    last_row: int | None = None  # the last row's number as far as known before reading (for progress only)


def read_table(data: bytes, name: str, options: ParseOptions = ParseOptions(),
               knows_header: Callable[[list[str]], bool] | None = None) -> Table:
    """Read a CSV or XLSX file into a Table; the format comes from the content, not the name.

    `knows_header` tells the delimiter sniffer whether a candidate header has the columns it needs.
    Raises TableReadError when the file is unreadable, unsupported, too large or unsafe.
    """
    if len(data) > options.max_bytes:
        raise TableReadError(make_issue("FILE_TOO_LARGE", size=len(data), limit=options.max_bytes))
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        from parsers.xlsx_reader import read_xlsx  # calamine is loaded only when a workbook arrives

        return read_xlsx(data, options)
    if data.startswith(_OLE2_MAGIC):
        raise TableReadError(make_issue(
            "UNSUPPORTED_FILE_TYPE", what="an Excel 97-2003 (.xls) or password-protected workbook"))
    for magic, what in _FOREIGN_MAGIC.items():
        if data.startswith(magic):
            raise TableReadError(make_issue("UNSUPPORTED_FILE_TYPE", what=what))
    if name.lower().endswith(_EXCEL_SUFFIXES) and _NOT_SPACE.search(data):
        raise TableReadError(make_issue(
            "UNREADABLE_FILE", reason=f"it is named {name.rsplit('.', 1)[-1]!r} but is not a zip archive, "
                                      "so not an Excel workbook (renamed file?)"))
    return read_csv(data, knows_header, options.max_columns)


def decode_text(data: bytes) -> tuple[str, str, list[Issue]]:
    """Decode CSV bytes: BOM-marked UTF-8/UTF-16, else UTF-8, else Windows-1252 (with a warning)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _decode(data, "utf-8-sig"), "utf-8-sig", []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode(data, "utf-16"), "utf-16", []
    if b"\x00" in data:
        raise TableReadError(make_issue("UNREADABLE_FILE", reason=(
            "it contains NUL bytes, so it is binary or UTF-16 without a byte-order mark; "
            "save it as UTF-8 CSV or .xlsx")))
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as exc:
        offset = exc.start
    line = data.count(b"\n", 0, offset) + 1
    return _decode(data, "cp1252"), "cp1252", [make_issue("ENCODING_FALLBACK", line=line, offset=offset)]


def utf8_lines(data: bytes) -> list[int]:
    """The 1-based numbers of the lines holding non-ASCII bytes that are all valid UTF-8.

    In a file read as Windows-1252 these lines were written in another encoding than the rest.
    Lines end as the CSV reader ends them (LF, CRLF or CR).
    """
    found = []
    for number, line in enumerate(data.splitlines(), 1):
        if not line.isascii():
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                continue
            found.append(number)
    return found


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        label = {"cp1252": "UTF-8 or Windows-1252"}.get(encoding, encoding.upper())
        raise TableReadError(make_issue(
            "UNREADABLE_FILE", reason=f"it is not valid {label} text (bad byte at offset {exc.start})")) from None


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
    """Read CSV bytes into a Table of text cells (nothing converted: `00123`, `NA` stay as written).

    A header of more than `max_columns` cells is refused (TOO_MANY_COLUMNS) before any row is read.
    """
    text, encoding, issues = decode_text(data)
    if text[:4096].lstrip().startswith("<"):
        raise TableReadError(make_issue(
            "UNSUPPORTED_FILE_TYPE", what="an HTML or XML document (an old 'Excel' web export?)"))
    header_line, header_row = _first_line(text)
    if not header_line:
        raise TableReadError(make_issue("EMPTY_FILE"))
    delimiter = sniff_delimiter(header_line, knows_header, max_columns)
    lines, unterminated_end = _lines_to_read(text)
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"', strict=False)
    table = Table("csv", [], header_row, iter(()), encoding=encoding, delimiter=delimiter, issues=issues,
                  unterminated_end=unterminated_end, read_errors=(csv.Error,),
                  last_row=max(text.count("\n"), text.count("\r")) + unterminated_end)   # quoted line ends: more
    try:
        for _ in range(header_row - 1):
            next(reader)
        table.header = [cell.strip() for cell in next(reader)]
    except csv.Error as exc:
        raise TableReadError(make_issue("UNREADABLE_FILE", reason=f"the header is not valid CSV ({exc})")) from None
    if max_columns is not None and len(table.header) > max_columns:
        raise TableReadError(make_issue("TOO_MANY_COLUMNS", what="the header", count=len(table.header),
                                        limit=max_columns))
    table.rows = enumerate(reader, header_row + 1)
    if encoding == "cp1252":
        table.rows = _mark_utf8_rows(table.rows, reader, utf8_lines(data), table.utf8_rows)
    return table


def _lines_to_read(text: str) -> tuple[Iterable[str], bool]:
    """The CSV reader's input, and whether its last record may lack a line end.

    A file ending in a line break can still end inside a quoted field (cut after a line break the
    field holds). Then a closing quote is fed after the text: it ends that field, so the reader yields
    the cut record last; after a complete last record it makes one blank record instead. Without
    quotes in the file, a final line break always ends the last record.
    """
    lines = io.StringIO(text, newline="")
    if not text.endswith(("\n", "\r")):
        return lines, True
    if '"' not in text:
        return lines, False
    return chain(lines, ['"']), True


def _mark_utf8_rows(rows: Iterator[tuple[int, list[str]]], reader, lines: list[int],
                    marks: dict[int, int]) -> Iterator[tuple[int, list[str]]]:
    """Yield `rows` unchanged, first recording in `marks` each one that spans a line in `lines`."""
    previous = reader.line_num
    for number, cells in rows:
        index = bisect_right(lines, previous)
        if index < len(lines) and lines[index] <= reader.line_num:
            marks[number] = lines[index]
        previous = reader.line_num
        yield number, cells
