"""Builders for the parser tests: workbooks made in memory and zip parts rewritten by hand."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
from openpyxl import Workbook
from workbooks import build_raw_xlsx


def build_xlsx(rows: list[list], *, title: str = "Sheet1", hidden_first: list[list] | None = None,
               start_cell: tuple[int, int] = (1, 1)) -> bytes:
    """A workbook whose (first visible) sheet holds `rows`; optionally after a hidden sheet."""
    workbook = Workbook()
    sheet = workbook.active
    if hidden_first is not None:
        sheet.title = "Hidden lookup"
        sheet.sheet_state = "hidden"
        for row in hidden_first:
            sheet.append(row)
        sheet = workbook.create_sheet(title)
    else:
        sheet.title = title
    first_row, first_column = start_cell
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.cell(row=first_row + r, column=first_column + c, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rewrite_parts(data: bytes, change: Callable[[str, bytes], bytes]) -> bytes:
    """The same zip with every member passed through `change(name, content)`."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            target.writestr(member.filename, change(member.filename, source.read(member.filename)))
    return buffer.getvalue()


@pytest.fixture
def raw_xlsx() -> Callable[..., bytes]:
    """Build a workbook from sheet XML: raw_xlsx(sheet_data, shared_strings=..., stored=..., whole_sheet=...)."""
    return build_raw_xlsx


@pytest.fixture
def xlsx() -> Callable[..., bytes]:
    """Build a workbook from rows: xlsx(rows, title=..., hidden_first=..., start_cell=...)."""
    return build_xlsx


@pytest.fixture
def rewrite() -> Callable[[bytes, Callable[[str, bytes], bytes]], bytes]:
    """Rewrite members of a zip: rewrite(data, change)."""
    return rewrite_parts
