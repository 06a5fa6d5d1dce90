"""CSV that people open in a spreadsheet (report issues, Quantity Update templates): a text cell a spreadsheet
would run is written neutralised (a leading `'`, see `parsers.formula_cells`) and always quoted; other cells
as the `csv` module writes them (numbers untouched, quotes only where needed).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

from parsers.formula_cells import is_dangerous, neutralised


class SpreadsheetCsvWriter:
    """`writerow`/`writerows` like `csv.writer` (CRLF line ends), with every dangerous text cell neutralised."""

    def __init__(self, out: TextIO, *, delimiter: str = ","):
        self._out, self._delimiter = out, delimiter
        self._plain = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
        self._specials = (delimiter, '"', "\r", "\n")

    def writerow(self, cells: Iterable[Any]) -> None:
        cells = list(cells)
        if not any(isinstance(cell, str) and is_dangerous(cell) for cell in cells):
            self._plain.writerow(cells)
            return
        # the csv module cannot quote one chosen cell: this row is written field by field
        self._out.write(self._delimiter.join(map(self._field, cells)) + "\r\n")

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)

    def _field(self, value: Any) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            return str(value)
        if is_dangerous(value):
            return '"' + neutralised(value).replace('"', '""') + '"'
        if any(special in value for special in self._specials):
            return '"' + value.replace('"', '""') + '"'
        return value
