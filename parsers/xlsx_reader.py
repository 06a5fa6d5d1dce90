"""XLSX/XLSM to a Table: zip-bomb, XML-bomb and size checks first, then python-calamine for the cells.

Every part calamine will read is first inflated here in bounded steps (parsers.xlsx_parts) and
checked for DTDs; the sheet is scanned in pieces (parsers.xlsx_scan) for the size of the grid
calamine would build and for the cells it reads as empty (formulas without a cached value, error
values such as `#N/A`). Memory for one workbook is bounded by `max_sheet_bytes`: a sheet whose XML
declares more is refused before anything is inflated.
"""

from __future__ import annotations

import io
import lzma
import posixpath
import struct
import zipfile
import zlib
from collections.abc import Iterator

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from parsers.issues import make_issue
from parsers.model import ParseOptions
from parsers.tables import Table, TableReadError
from parsers.xlsx_cells import cell_text
from parsers.xlsx_parts import (
    MAX_TREE_PART_BYTES,
    check_zip,
    checked_chunks,
    declares_dtd,
    read_member,
    refuse,
    shared_string_sizes,
)
from parsers.xlsx_scan import SheetScan, limit_words, shared_text_bytes

_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_SHARED_STRINGS = "xl/sharedStrings.xml"
# What zipfile raises on damaged archives: bad headers, bad deflate streams, encryption, odd methods.
_ZIP_FAILURES = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, lzma.LZMAError, EOFError, OSError,
                 ValueError, KeyError, RuntimeError, NotImplementedError, struct.error, UnicodeDecodeError)


def _read_tree_part(data: bytes, archive: zipfile.ZipFile, part: str) -> bytes:
    xml = read_member(data, archive.getinfo(part), MAX_TREE_PART_BYTES)
    if declares_dtd(xml):
        raise refuse("XML_FORBIDDEN", part=part)
    return xml


def _parse_xml(data: bytes, part: str):
    try:
        return fromstring(data)
    except DefusedXmlException:
        raise refuse("XML_FORBIDDEN", part=part) from None
    except Exception as exc:  # ParseError and friends: a broken workbook
        raise refuse("UNREADABLE_FILE", reason=f"its part '{part}' is not valid XML ({exc})") from None


def _not_a_workbook(data: bytes, names: set[str], archive: zipfile.ZipFile) -> TableReadError:
    if "xl/workbook.bin" in names:
        return refuse("UNSUPPORTED_FILE_TYPE", what="an Excel binary workbook (.xlsb)")
    if "mimetype" in names and b"opendocument" in read_member(data, archive.getinfo("mimetype"), 1024)[:200]:
        return refuse("UNSUPPORTED_FILE_TYPE", what="an OpenDocument file (.ods)")
    return refuse("UNREADABLE_FILE", reason="it is a zip archive but not an Excel workbook")


def read_workbook(data: bytes, archive: zipfile.ZipFile) -> tuple[list[tuple[str, bool, str | None]], str | None]:
    """Every sheet as (name, visible, part path or None for chartsheets), in workbook order, and the
    shared strings part (None when the workbook has none)."""
    workbook = _parse_xml(_read_tree_part(data, archive, "xl/workbook.xml"), "xl/workbook.xml")
    targets: dict[str, str] = {}
    shared = _SHARED_STRINGS if _SHARED_STRINGS in archive.NameToInfo else None
    rels_part = "xl/_rels/workbook.xml.rels"
    if rels_part in archive.NameToInfo:
        rels = _parse_xml(_read_tree_part(data, archive, rels_part), rels_part)
        for rel in rels.iter(f"{_PKG_REL_NS}Relationship"):
            kind, target = rel.get("Type", ""), rel.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
            if kind.endswith("/worksheet"):
                targets[rel.get("Id", "")] = path
            elif kind.endswith("/sharedStrings") and path in archive.NameToInfo:
                shared = path
    sheets = []
    for sheet in workbook.iter(f"{_MAIN_NS}sheet"):
        visible = sheet.get("state", "visible") == "visible"
        sheets.append((sheet.get("name", ""), visible, targets.get(sheet.get(f"{_REL_NS}id", ""))))
    return sheets, shared


def choose_sheet(sheets: list[tuple[str, bool, str | None]], wanted: str | None) -> tuple[str, str, list]:
    """The sheet to read (name, part) and warnings for hidden sheets skipped on the way."""
    names = ", ".join(f"'{name}'" for name, _, _ in sheets) or "none"
    if wanted is not None:
        for name, _, part in sheets:
            if name == wanted and part:
                return name, part, []
        raise refuse("SHEET_NOT_FOUND", value=wanted, sheets=names)
    skipped = []
    for name, visible, part in sheets:
        if visible and part:
            return name, part, [make_issue("HIDDEN_SHEET_SKIPPED", value=s, used=name) for s in skipped]
        if not visible:
            skipped.append(name)
    raise refuse("SHEET_NOT_FOUND", value="(first visible worksheet)", sheets=names)


def read_xlsx(data: bytes, options: ParseOptions) -> Table:
    """Read the chosen sheet of an XLSX/XLSM workbook into a Table of text cells."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sheet_name, issues, scan = _checked_parts(data, archive, options)
    except _ZIP_FAILURES as exc:
        raise refuse("UNREADABLE_FILE", reason=f"it is a damaged zip archive ({type(exc).__name__}: {exc})") from None
    return _calamine_table(data, sheet_name, issues, scan.formulas, scan.errors)


def _checked_parts(data: bytes, archive: zipfile.ZipFile, options: ParseOptions) -> tuple[str, list, SheetScan]:
    """Run the bomb and size checks, choose the sheet, scan it: its name, warnings and scan."""
    check_zip(archive, options)
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names:
        raise _not_a_workbook(data, names, archive)
    sheets, shared_part = read_workbook(data, archive)
    sheet_name, sheet_part, issues = choose_sheet(sheets, options.sheet)
    if sheet_part not in names:
        raise refuse("UNREADABLE_FILE", reason=f"its sheet part '{sheet_part}' is missing")
    limit, sheet = options.max_sheet_bytes, archive.getinfo(sheet_part)
    others = [archive.getinfo(part) for part in sorted(names) if part.endswith((".xml", ".rels"))
              and (not part.startswith("xl/worksheets/") or part.startswith("xl/worksheets/_rels/"))]
    for info in [sheet, *others]:   # declared sizes, before anything is inflated
        if info.file_size > limit:
            what = ("its XML" if info is sheet else f"its shared strings ('{info.filename}')"
                    if info.filename == shared_part else f"its part '{info.filename}'")
            raise refuse("SHEET_TOO_LARGE", sheet=sheet_name, reason=(
                f"{what} would unpack to {info.file_size:,} bytes, over the limit of {limit:,} "
                f"({limit_words(options)})"))
    sizes: list[int] = []
    for info in others:
        if info.filename == shared_part:
            sizes = shared_string_sizes(checked_chunks(data, info))
        else:
            for _ in checked_chunks(data, info):
                pass
    scan = SheetScan(sheet_name, options, count_shared=bool(sizes))
    for chunk in checked_chunks(data, sheet):
        scan.feed(chunk)
    scan.close()
    if sizes and scan.shared * max(sizes) > limit:
        text = shared_text_bytes(checked_chunks(data, sheet), sizes, scan.shared)
        if text > limit:
            raise refuse("SHEET_TOO_LARGE", sheet=sheet_name, reason=(
                f"its cells repeat shared strings of up to {text:,} bytes in all, over the limit of "
                f"{limit:,} ({limit_words(options)})"))
    return sheet_name, issues, scan


def _calamine_table(data: bytes, sheet_name: str, issues: list, formulas: dict, errors: dict) -> Table:
    import python_calamine

    try:
        sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(sheet_name)
        raw_rows = sheet.iter_rows()
        first_column = sheet.start[1] if sheet.start else 0
    except Exception as exc:  # calamine's own error types vary by version; all mean "cannot read"
        raise refuse("UNREADABLE_FILE", reason=f"the workbook is damaged ({type(exc).__name__}: {exc})") from None
    table = Table("xlsx", [], 0, iter(()), sheet=sheet_name, first_column=first_column, issues=issues,
                  read_errors=(python_calamine.CalamineError,), last_row=getattr(sheet, "height", None))
    for (row, column), text in formulas.items():
        table.formula_cells.setdefault(row, {})[column - first_column] = text
    for (row, column), text in errors.items():
        table.error_cells.setdefault(row, {})[column - first_column] = text
    rows = _text_rows(raw_rows, table)
    for row_number, cells in rows:
        if any(cells):
            table.header, table.header_row = [c.strip() for c in cells], row_number
            break
    else:
        raise refuse("EMPTY_FILE")
    table.rows = rows
    return table


def _text_rows(raw_rows: Iterator[list], table: Table) -> Iterator[tuple[int, list[str]]]:
    notes = table.cell_notes
    for row_number, cells in enumerate(raw_rows, 1):
        for index, value in enumerate(cells):
            if value.__class__ is str:
                continue
            if value.__class__ is float and value.is_integer() and -1e11 < value < 1e11:
                cells[index] = str(int(value))
                continue
            cells[index], note = cell_text(value)
            if note:
                notes.setdefault(row_number, {})[index] = note
        yield row_number, cells
