"""XLSX/XLSM to a Table: zip-bomb and XML-bomb checks first, then python-calamine for the cells.

Calamine gives formulas' cached values; formulas without one and error values (`#N/A`) read as
empty, so the sheet XML is scanned for them separately.
"""

from __future__ import annotations

import io
import lzma
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from parsers.issues import make_issue
from parsers.model import ParseOptions
from parsers.tables import Table, TableReadError
from parsers.xlsx_cells import cell_text, column_index

MAX_MEMBERS = 10_000
RATIO_CHECK_FROM_BYTES = 1024 * 1024
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_UTF16_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")
_P = rb"(?:\w+:)?"  # optional namespace prefix on element names
_HAS_FORMULA = re.compile(rb"<" + _P + rb"f[\s>/]")
_UNCACHED_FORMULA = re.compile(
    rb"<" + _P + rb"c\b([^>]*)>\s*<" + _P + rb"f\b([^>]*?)(?:/>|>([^<]*)</" + _P + rb"f>)\s*"
    rb"(?:<" + _P + rb"v\s*/>|<" + _P + rb"v>\s*</" + _P + rb"v>)?\s*</" + _P + rb"c>")
_ERROR_CELL = re.compile(rb"<" + _P + rb"c\b([^>]*\bt=\"e\"[^>/]*)>(.*?)</" + _P + rb"c>", re.S)
_VALUE = re.compile(rb"<" + _P + rb"v>([^<]*)</" + _P + rb"v>")
# What zipfile raises on damaged archives: bad headers, bad deflate streams, encryption, odd methods.
_ZIP_FAILURES = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, lzma.LZMAError, EOFError, OSError,
                 ValueError, KeyError, RuntimeError, NotImplementedError, struct.error, UnicodeDecodeError)
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')


def _refuse(code: str, **fields: object) -> TableReadError:
    return TableReadError(make_issue(code, **fields))


def check_zip(archive: zipfile.ZipFile, options: ParseOptions) -> None:
    """Refuse a workbook whose declared sizes, ratios or member count could exhaust memory."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise _refuse("ZIP_BOMB", reason=f"it has {len(members):,} members (limit {MAX_MEMBERS:,})")
    total = sum(m.file_size for m in members)
    if total > options.max_uncompressed_bytes:
        raise _refuse("ZIP_BOMB", reason=f"it would unpack to {total:,} bytes "
                                         f"(limit {options.max_uncompressed_bytes:,})")
    for member in members:
        if member.file_size > RATIO_CHECK_FROM_BYTES:
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > options.max_compression_ratio:
                raise _refuse("ZIP_BOMB", reason=f"'{member.filename}' is compressed {ratio:,.0f} to 1 "
                                                 f"(limit {options.max_compression_ratio:,.0f})")


def declares_dtd(xml: bytes) -> bool:
    """True when XML bytes carry a `<!DOCTYPE` or `<!ENTITY` (any case; UTF-8 or UTF-16)."""
    if xml[:2] in _UTF16_STARTS:
        encoding = "utf-16" if xml[:2] in _UTF16_STARTS[:2] else "utf-16-le" if xml[:1] == b"<" else "utf-16-be"
        xml = xml.decode(encoding, "replace").encode("utf-8", "replace")
    start = xml.find(b"<!")
    while start >= 0:  # one substring scan; comments and CDATA are the only other `<!` in a part
        if xml[start + 2: start + 9].upper().startswith((b"DOCTYPE", b"ENTITY")):
            return True
        start = xml.find(b"<!", start + 2)
    return False


def _read_part(archive: zipfile.ZipFile, part: str) -> bytes:
    data = archive.read(part)
    if declares_dtd(data):
        raise _refuse("XML_FORBIDDEN", part=part)
    return data


def _parse_xml(data: bytes, part: str):
    try:
        return fromstring(data)
    except DefusedXmlException:
        raise _refuse("XML_FORBIDDEN", part=part) from None
    except Exception as exc:  # ParseError and friends: a broken workbook
        raise _refuse("UNREADABLE_FILE", reason=f"its part '{part}' is not valid XML ({exc})") from None


def _not_a_workbook(names: set[str], archive: zipfile.ZipFile) -> TableReadError:
    if "xl/workbook.bin" in names:
        return _refuse("UNSUPPORTED_FILE_TYPE", what="an Excel binary workbook (.xlsb)")
    if "mimetype" in names and b"opendocument" in archive.read("mimetype")[:200]:
        return _refuse("UNSUPPORTED_FILE_TYPE", what="an OpenDocument file (.ods)")
    return _refuse("UNREADABLE_FILE", reason="it is a zip archive but not an Excel workbook")


def list_sheets(archive: zipfile.ZipFile) -> list[tuple[str, bool, str | None]]:
    """(name, visible, part path or None for chartsheets) for every sheet, in workbook order."""
    workbook = _parse_xml(_read_part(archive, "xl/workbook.xml"), "xl/workbook.xml")
    targets: dict[str, str] = {}
    rels_part = "xl/_rels/workbook.xml.rels"
    if rels_part in archive.NameToInfo:
        for rel in _parse_xml(_read_part(archive, rels_part), rels_part).iter(f"{_PKG_REL_NS}Relationship"):
            if rel.get("Type", "").endswith("/worksheet"):
                target = rel.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
                targets[rel.get("Id", "")] = path
    sheets = []
    for sheet in workbook.iter(f"{_MAIN_NS}sheet"):
        visible = sheet.get("state", "visible") == "visible"
        sheets.append((sheet.get("name", ""), visible, targets.get(sheet.get(f"{_REL_NS}id", ""))))
    return sheets


def choose_sheet(sheets: list[tuple[str, bool, str | None]], wanted: str | None) -> tuple[str, str, list]:
    """The sheet to read (name, part) and warnings for hidden sheets skipped on the way."""
    names = ", ".join(f"'{name}'" for name, _, _ in sheets) or "none"
    if wanted is not None:
        for name, _, part in sheets:
            if name == wanted and part:
                return name, part, []
        raise _refuse("SHEET_NOT_FOUND", value=wanted, sheets=names)
    skipped = []
    for name, visible, part in sheets:
        if visible and part:
            return name, part, [make_issue("HIDDEN_SHEET_SKIPPED", value=s, used=name) for s in skipped]
        if not visible:
            skipped.append(name)
    raise _refuse("SHEET_NOT_FOUND", value="(first visible worksheet)", sheets=names)


def special_cells(sheet_xml: bytes) -> tuple[dict[tuple[int, int], str], dict[tuple[int, int], str]]:
    """Cells calamine reads as empty: formulas without a cached value, and spreadsheet error values.

    Both maps go from (row number, absolute 0-based column) to the text to report.
    """
    formulas: dict[tuple[int, int], str] = {}
    errors: dict[tuple[int, int], str] = {}
    # Plain substring tests first: a regex scan of a large sheet costs more than the whole check.
    if b"<f" in sheet_xml or (b":f" in sheet_xml and _HAS_FORMULA.search(sheet_xml)):
        for match in _UNCACHED_FORMULA.finditer(sheet_xml):
            ref = _CELL_REF.search(match.group(1))
            if ref:
                formula = (match.group(3) or b"").decode("utf-8", "replace")
                formulas[int(ref.group(2)), column_index(ref.group(1))] = "=" + formula
    if b't="e"' in sheet_xml:
        for match in _ERROR_CELL.finditer(sheet_xml):
            ref = _CELL_REF.search(match.group(1))
            value = _VALUE.search(match.group(2))
            if ref:
                errors[int(ref.group(2)), column_index(ref.group(1))] = (
                    value.group(1).decode("utf-8", "replace") if value else "#ERROR")
    return formulas, errors


def read_xlsx(data: bytes, options: ParseOptions) -> Table:
    """Read the chosen sheet of an XLSX/XLSM workbook into a Table of text cells.

    Every XML part calamine will read is first unpacked here by zipfile, which stops at the declared
    size and checks the CRC, so a member lying about its size is refused before calamine sees it.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sheet_name, issues, sheet_xml = _checked_parts(archive, options)
    except _ZIP_FAILURES as exc:
        raise _refuse("UNREADABLE_FILE", reason=f"it is a damaged zip archive ({type(exc).__name__}: {exc})") from None
    formulas, errors = special_cells(sheet_xml)
    del sheet_xml
    return _calamine_table(data, sheet_name, issues, formulas, errors)


def _checked_parts(archive: zipfile.ZipFile, options: ParseOptions) -> tuple[str, list, bytes]:
    """Run the bomb checks, choose the sheet, and return its name, warnings and XML."""
    check_zip(archive, options)
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names:
        raise _not_a_workbook(names, archive)
    sheet_name, sheet_part, issues = choose_sheet(list_sheets(archive), options.sheet)
    if sheet_part not in names:
        raise _refuse("UNREADABLE_FILE", reason=f"its sheet part '{sheet_part}' is missing")
    for part in sorted(names):
        if part.endswith((".xml", ".rels")) and (not part.startswith("xl/worksheets/")
                                                  or part.startswith("xl/worksheets/_rels/")):
            _read_part(archive, part)
    return sheet_name, issues, _read_part(archive, sheet_part)


def _calamine_table(data: bytes, sheet_name: str, issues: list, formulas: dict, errors: dict) -> Table:
    import python_calamine

    try:
        sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(sheet_name)
        raw_rows = sheet.iter_rows()
        first_column = sheet.start[1] if sheet.start else 0
    except Exception as exc:  # calamine's own error types vary by version; all mean "cannot read"
        raise _refuse("UNREADABLE_FILE", reason=f"the workbook is damaged ({type(exc).__name__}: {exc})") from None
    table = Table("xlsx", [], 0, iter(()), sheet=sheet_name, first_column=first_column, issues=issues,
                  read_errors=(python_calamine.CalamineError,))
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
        raise _refuse("EMPTY_FILE")
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
