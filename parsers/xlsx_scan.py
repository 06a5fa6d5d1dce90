"""One pass over a worksheet's XML in bounded pieces: how big calamine's grid would be, and the cells it
reads as empty (formulas without a cached value, error values).

Calamine holds a sheet as one dense grid from its first to its last cell with a value, 32 bytes a
cell, so a 2 KB sheet with one value at XFD1048576 would ask for 550 GB. The grid is measured here
first, from the cells' references: a piece in which every cell's reference is plainly inside the
grid known so far is checked by one regular-expression search; any other piece (a reference beyond
it, cells without one, namespace prefixes) is read tag by tag, as calamine places cells.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from parsers.model import ParseOptions
from parsers.xlsx_cells import column_index
from parsers.xlsx_parts import refuse

CELL_BYTES = 32                       # what calamine keeps per grid cell, before the text of strings
XML_BYTES_PER_CELL = 16               # the least XML a cell with a value takes, about (`<c><v>1</v></c>`)
MAX_CARRY_BYTES = 16 * 1024 * 1024    # no cell of a real sheet comes near (32,767 characters at most)
_P = rb"(?:[A-Za-z_][\w.-]*:)?"       # optional namespace prefix on element names
_CLOSE = re.compile(rb"</" + _P + rb"(c|row|sheetData)>")
_ROW_CLOSE = re.compile(rb"</" + _P + rb"row>")
_SHEET_DATA_END = re.compile(rb"</" + _P + rb"sheetData>")
_ROW_NUMBER = re.compile(rb'(\d{1,10})"')
_REF_AT = re.compile(rb'([A-Z]{1,3})([1-9]\d{0,9})"')
_TAG = re.compile(rb"<(/?)" + _P + rb"(row|c)(?=[\s/>])([^>]*)>")
_R_ATTRIBUTE = re.compile(rb"""(?:^|\s)r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF_PARTS = re.compile(rb"\$?([A-Za-z]*)\$?(\d*)")
_CELL_START = re.compile(rb"<" + _P + rb"c[\s>/]")
_ROW_WITHOUT_REFERENCE = re.compile(rb'<row(?! r=")[\s>/]')
_PREFIXED = re.compile(rb":(?:c|row)[\s>/]")   # `<x:c `, `<x:row>`: a prefixed cell or row
_SHARED_VALUE = re.compile(rb"<" + _P + rb"""c\b[^>]*\bt\s*=\s*(?:"s"|'s')[^>]*>\s*<""" + _P + rb"v>\s*(\d+)")
_HAS_FORMULA = re.compile(rb"<" + _P + rb"f[\s>/]")
_UNCACHED_FORMULA = re.compile(
    rb"<" + _P + rb"c\b([^>]*)>\s*<" + _P + rb"f\b([^>]*?)(?:/>|>([^<]*)</" + _P + rb"f>)\s*"
    rb"(?:<" + _P + rb"v\s*/>|<" + _P + rb"v>\s*</" + _P + rb"v>)?\s*</" + _P + rb"c>")
_ERROR_CELL = re.compile(rb"<" + _P + rb"c\b([^>]*\bt=\"e\"[^>/]*)>(.*?)</" + _P + rb"c>", re.S)
_VALUE = re.compile(rb"<" + _P + rb"v>([^<]*)</" + _P + rb"v>")
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')


def at_most_number(limit: int) -> bytes:
    """A pattern matching exactly the numbers 1..limit written without leading zeros."""
    digits = str(limit)
    options = [rf"[1-9]\d{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    for position, digit in enumerate(digits):
        low = 1 if position == 0 else 0
        if int(digit) > low:
            rest = len(digits) - position - 1
            below = f"[{low}-{int(digit) - 1}]" if int(digit) - 1 > low else str(low)
            options.append(digits[:position] + below + (rf"\d{{{rest}}}" if rest else ""))
    options.append(digits)
    return ("(?:" + "|".join(options) + ")").encode()


def at_most_letters(limit: int) -> bytes:
    """A pattern matching exactly the upper-case column letters of columns 1..limit (A = 1)."""
    letters = _letters(limit)
    options = [rf"[A-Z]{{1,{len(letters) - 1}}}"] if len(letters) > 1 else []
    for position, letter in enumerate(letters):
        if letter > "A":
            rest = len(letters) - position - 1
            below = f"[A-{chr(ord(letter) - 1)}]" if letter > "B" else "A"
            options.append(letters[:position] + below + (rf"[A-Z]{{{rest}}}" if rest else ""))
    options.append(letters)
    return ("(?:" + "|".join(options) + ")").encode()


def _letters(column: int) -> str:
    text = ""
    while column:
        column, remainder = divmod(column - 1, 26)
        text = chr(65 + remainder) + text
    return text


class SheetScan:
    """Feed a sheet's UTF-8 chunks in order, then `close()`.

    Afterwards `rows` and `columns` are the largest row number and column number (A = 1) of a cell
    that may hold a value, `shared` an upper bound of the cells naming a shared string (counted when
    `count_shared`), and `formulas` / `errors` map (row number, 0-based column) to the text to report.
    A grid beyond `options.max_columns` or `max_cells(options)` is refused (TOO_MANY_COLUMNS,
    SHEET_TOO_LARGE) as soon as a piece shows it.
    """

    def __init__(self, sheet: str, options: ParseOptions, *, count_shared: bool = False) -> None:
        self.sheet, self.options, self.count_shared = sheet, options, count_shared
        self.rows = self.columns = self.shared = 0
        self.formulas: dict[tuple[int, int], str] = {}
        self.errors: dict[tuple[int, int], str] = {}
        self._carry = b""
        self._done = False     # past </sheetData>: nothing after it is a cell
        self._row = self._column = 0   # where a cell without a reference would go (as calamine counts)
        self._grid: tuple[int, int] = (0, 0)
        self._inside: re.Pattern[bytes] | None = None   # finds a cell not plainly inside self._grid

    def feed(self, chunk: bytes) -> None:
        """Take the next chunk; complete cells are scanned now, the rest waits for the next chunk."""
        if self._done:
            return
        buffer = self._carry + chunk
        cut = _last_cut(buffer, max(len(self._carry) - 16, 0))
        if cut < 0:
            if len(buffer) > MAX_CARRY_BYTES:
                raise refuse("SHEET_TOO_LARGE", sheet=self.sheet,
                             reason=f"it has a cell or element of more than {MAX_CARRY_BYTES:,} bytes")
            self._carry = buffer
            return
        self._carry = buffer[cut:]
        self._piece(buffer[:cut])

    def close(self) -> None:
        """Scan what is left after the last chunk."""
        if self._carry and not self._done:
            self._piece(self._carry)
        self._carry = b""

    def _piece(self, piece: bytes) -> None:
        end = _SHEET_DATA_END.search(piece) if b"sheetData>" in piece else None
        if end:
            self._done, piece = True, piece[: end.end()]
        if self.count_shared:
            self.shared += piece.count(b'"s"') + piece.count(b"'s'")
        self._special_cells(piece)
        if not self.columns:   # the first row (the header, as a rule) gives the grid its width
            first = _ROW_CLOSE.search(piece)
            if first:
                self._exact(piece[:first.end()])
                piece = piece[first.end():]
        if not self._fast(piece):
            self._exact(piece)
        self._check()

    def _fast(self, piece: bytes) -> bool:
        """True when every cell of `piece` has a plain reference inside the grid (then the grid grows
        to the piece's last cell with a value); False when the piece must be read tag by tag."""
        if not self.columns or _PREFIXED.search(piece):
            return False
        close = piece.rfind(b"</c>")
        if close < 0:
            if _CELL_START.search(piece) or _ROW_WITHOUT_REFERENCE.search(piece):
                return False
        else:
            start = piece.rfind(b'<c r="', 0, close)
            ref = _REF_AT.match(piece, start + 6) if start >= 0 else None
            if ref is None or column_index(ref.group(1)) + 1 > self.columns:
                return False
            row = int(ref.group(2))
            if self._grid != (self.columns, row) or self._inside is None:
                self._grid = (self.columns, row)
                self._inside = re.compile(rb'<(?:c(?! r="' + at_most_letters(self.columns) + at_most_number(row)
                                          + rb'")|row(?! r="))[\s>/]')
            if self._inside.search(piece):
                return False
            self.rows = max(self.rows, row)
        start = piece.rfind(b'<row r="')
        last_row = _ROW_NUMBER.match(piece, start + 8) if start >= 0 else None
        if last_row:   # where calamine's row count goes on from, for a later row without a number
            self._row = max(self._row, int(last_row.group(1)))
        return True

    def _exact(self, piece: bytes) -> None:
        """Place every cell as calamine does: by its reference, else after the previous cell."""
        for match in _TAG.finditer(piece):
            closing, name, attributes = match.groups()
            if closing:
                continue
            ref = _R_ATTRIBUTE.search(attributes)
            text = (ref.group(1) if ref.group(1) is not None else ref.group(2)) if ref else b""
            letters, digits = _REF_PARTS.match(text.strip()).groups()
            if name == b"row":
                self._row = int(digits) if digits and not letters else self._row + 1
                self._column = 0
                continue
            self._column = column_index(letters) + 1 if letters else self._column + 1
            row = int(digits) if digits else self._row
            if attributes.endswith(b"/"):
                continue   # an empty cell (a style only): calamine keeps nothing for it
            self.rows, self.columns = max(self.rows, row), max(self.columns, self._column)

    def _check(self) -> None:
        limit = self.options.max_columns
        if self.columns > limit:
            raise refuse("TOO_MANY_COLUMNS", what=f"sheet '{self.sheet}'", count=self.columns, limit=limit)
        cells, allowed = self.rows * self.columns, max_cells(self.options)
        if cells > allowed:
            raise refuse("SHEET_TOO_LARGE", sheet=self.sheet, reason=(
                f"its cells span {self.rows:,} rows by {self.columns:,} columns ({cells:,} cells), more than "
                f"the {allowed:,} cells {limit_words(self.options)} allows"))

    def _special_cells(self, piece: bytes) -> None:
        # Plain substring tests first: a regex scan of a large piece costs more than the whole check.
        if b"<f" in piece or (b":f" in piece and _HAS_FORMULA.search(piece)):
            for match in _UNCACHED_FORMULA.finditer(piece):
                ref = _CELL_REF.search(match.group(1))
                if ref:
                    formula = (match.group(3) or b"").decode("utf-8", "replace")
                    self.formulas[int(ref.group(2)), column_index(ref.group(1))] = "=" + formula
        if b't="e"' in piece:
            for match in _ERROR_CELL.finditer(piece):
                ref = _CELL_REF.search(match.group(1))
                value = _VALUE.search(match.group(2))
                if ref:
                    self.errors[int(ref.group(2)), column_index(ref.group(1))] = (
                        value.group(1).decode("utf-8", "replace") if value else "#ERROR")


def _last_cut(buffer: bytes, start: int) -> int:
    """The position just after the last `</c>`, `</row>` or `</sheetData>` at or after `start`; -1 if none."""
    position = len(buffer)
    while True:
        position = buffer.rfind(b"</", start, position)
        if position < 0:
            return -1
        match = _CLOSE.match(buffer, position)
        if match:
            return match.end()


def max_cells(options: ParseOptions) -> int:
    """The largest grid a sheet may span: what a sheet of the size limit could fill with values."""
    return options.max_sheet_bytes // XML_BYTES_PER_CELL


def limit_words(options: ParseOptions) -> str:
    """`max_sheet_mb = 320`, for messages."""
    return f"max_sheet_mb = {options.max_sheet_bytes / (1024 * 1024):g}"


def shared_text_bytes(chunks: Iterable[bytes], sizes: list[int], bound: int) -> int:
    """An upper bound of the text calamine copies out of shared strings for the sheet's cells.

    Each cell naming a shared string gets its own copy; `bound` (the quick count of such cells)
    makes up for any cell the pattern here did not recognise, at the longest string's size.
    """
    longest = max(sizes, default=0)
    total = found = 0
    for chunk in chunks:
        for index in _SHARED_VALUE.findall(chunk):
            number = int(index)
            total += sizes[number] if number < len(sizes) else 0
            found += 1
    return total + max(bound - found, 0) * longest
