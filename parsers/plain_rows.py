"""The row loop's fast path: a chunk of rows that are all plainly valid is taken whole, column by column.

Plainly valid: a trimmed printable SKU of 1-100 characters without `+` or a leading `'`, new to the file; quantities of
plain ASCII digits (or empty, where that is allowed); nothing in unnamed columns or flagged by the XLSX
reader. The checks run at C speed over whole columns (join, map, set). A chunk with anything else goes
to the per-row loop in `parsers.rows`, which decides every rule; both give the same result.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import TYPE_CHECKING

from parsers.cells import MAX_SKU_LENGTH
from parsers.formula_cells import read_back
from parsers.model import ParsedFile
from parsers.tables import Table

if TYPE_CHECKING:
    from parsers.rows import RowLayout

CHUNK_ROWS = 256   # small enough that a chunk's cells stay in the CPU cache between column passes
_MAX_WAIT = 31     # chunks: after refusals in a row, the next attempts come 1, 3, 7... 31 chunks apart
_PLAIN_DIGITS = 9  # longer digit strings go through parse_quantity (QUANTITY_TOO_LARGE)


def title_of(cell: str) -> str | None:
    """A kept row's title from its cell (StockGate's `'` marks read back); None when the cell is empty."""
    text = cell.strip()
    if not text:
        return None
    return read_back(text).strip() if text[0] == "'" else text


class PlainChunks:
    """Takes chunks of plainly valid rows into a ParsedFile; `take` refuses a chunk (and changes nothing)
    unless every row in it is plain.

    Repeated SKUs are found with a set of every SKU met so far (`taken`); the per-row loop's `seen`
    (SKU -> output index) learns the SKUs taken here only when that loop is about to run (`hand_over`),
    which keeps a plain file to one cheap set insertion per row. Without `repeats` (a streamed file, whose
    reader finds repeated SKUs) nothing is remembered across chunks.
    """

    def __init__(self, table: Table, layout: RowLayout, parsed: ParsedFile, seen: dict[str, int], as_of, *,
                 repeats: bool = True) -> None:
        self.table = table
        self.width = max([len(table.header), layout.sku + 1, *(i + 1 for i, _ in layout.quantities),
                          (layout.as_of or 0) + 1, (layout.title or 0) + 1])
        self.exact_width = layout.check_extra_cells   # longer rows: values in a column without a header
        self.sku = itemgetter(layout.sku)
        self.quantities = [(itemgetter(index), parsed.quantities[key]) for index, key in layout.quantities]
        self.unnamed = [itemgetter(index) for index in layout.unnamed]
        self.as_of_cell = itemgetter(layout.as_of) if layout.as_of is not None else None
        self.title_cell = itemgetter(layout.title) if layout.title is not None else None
        self.as_of = as_of
        self.empty_allowed = not layout.empty_is_error
        self.parsed = parsed
        self.seen = seen
        self.repeats = repeats
        self.taken: set[str] = set()
        self.handed_over = 0   # parsed.skus[:handed_over] are all in `seen`
        self.refusals = 0      # in a row: a file irregular throughout is not checked twice per chunk
        self.wait = 0

    def take(self, chunk: Sequence[tuple[int, list[str]]]) -> bool:
        """Add every row of `chunk` ((row number, cells) pairs) when all are plain; else add nothing."""
        if self.wait:
            self.wait -= 1
            return False
        if self._take(chunk):
            self.refusals = 0
            return True
        self.refusals += 1
        self.wait = min(2 ** (self.refusals - 1) - 1, _MAX_WAIT)
        return False

    def _take(self, chunk: Sequence[tuple[int, list[str]]]) -> bool:
        numbers, rows = zip(*chunk)
        lengths = set(map(len, rows))
        if lengths != {self.width} and (self.exact_width or min(lengths) < self.width):
            return False
        table = self.table
        for marks in (table.cell_notes, table.formula_cells, table.error_cells, table.utf8_rows):
            if marks and not marks.keys().isdisjoint(numbers):
                return False
        skus = list(map(str.strip, map(self.sku, rows)))
        joined = "".join(skus)
        if not (all(skus) and max(map(len, skus)) <= MAX_SKU_LENGTH and joined.isprintable() and "+" not in joined):
            return False
        if self.repeats and not (len(set(skus)) == len(skus) and self.taken.isdisjoint(skus)):
            return False
        if "'" in joined and any(sku[0] == "'" for sku in skus):   # maybe neutralised: read row by row
            return False
        if any("".join(map(cell, rows)).strip() for cell in self.unnamed):
            return False
        values = [self._quantities(list(map(cell, rows))) for cell, _ in self.quantities]
        if None in values:
            return False
        if self.as_of_cell is not None:
            self._see_as_of(numbers, rows)
        parsed = self.parsed
        if self.repeats:
            self.taken.update(skus)
        parsed.skus.extend(skus)
        parsed.row_numbers.extend(numbers)
        for (_, column), column_values in zip(self.quantities, values):
            column.extend(column_values)
        if self.title_cell is not None:
            texts = list(map(str.strip, map(self.title_cell, rows)))
            if "'" in "".join(texts) and any(text[:1] == "'" for text in texts):   # maybe StockGate's neutralised
                parsed.row_titles.extend(map(title_of, texts))                      # form: read it back
            elif all(texts):
                parsed.row_titles.extend(texts)
            else:
                parsed.row_titles.extend(text or None for text in texts)
        return True

    def hand_over(self) -> None:
        """Before the per-row loop runs: put the SKUs taken since the last hand-over into `seen`."""
        if not self.repeats:
            return
        skus, start = self.parsed.skus, self.handed_over
        self.seen.update(zip(skus[start:], range(start, len(skus))))

    def taken_back(self, chunk: Sequence[tuple[int, list[str]]]) -> None:
        """After the per-row loop ran over `chunk`: its SKUs (and every kept row's) count as met."""
        if not self.repeats:
            return
        _, rows = zip(*chunk)   # the per-row loop has padded every row to the header's width
        self.taken.update(map(str.strip, map(self.sku, rows)))
        self.handed_over = len(self.parsed.skus)

    def _quantities(self, texts: list[str]) -> list[int | None] | None:
        """The column's values when every cell is plain digits (or empty, if allowed); else None."""
        joined = "".join(texts)
        if not joined.isascii() or max(map(len, texts)) > _PLAIN_DIGITS:
            return None
        if all(texts):
            return list(map(int, texts)) if joined.isdigit() else None
        if not self.empty_allowed or (joined and not joined.isdigit()):
            return None
        return [int(text) if text else None for text in texts]

    def _see_as_of(self, numbers: tuple[int, ...], rows: tuple[list[str], ...]) -> None:
        """Show the as_of reader each row's cell, unless every cell is empty or the moment already seen."""
        texts = list(map(self.as_of_cell, rows))
        if set(map(str.strip, texts)) - {"", self.as_of.text}:
            for number, text in zip(numbers, texts):
                self.as_of.see(number, text)
