"""Memory for one workbook is bounded: parts are inflated in bounded steps and never past what they declare,
a sheet over `max_sheet_bytes` is refused from its declared size, and the grid calamine would build is
measured from the sheet's XML before calamine reads it."""

import io
import zipfile

import pytest
import python_calamine
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import ParseOptions, parse_file
from workbooks import SHEET_START, build_raw_xlsx
from parsers.xlsx_parts import CHUNK_BYTES, member_chunks
from parsers.xlsx_scan import SheetScan

HEADER = (b'<row r="1"><c r="A1" t="inlineStr"><is><t>SKU</t></is></c><c r="B1" t="inlineStr"><is><t>MF</t></is>'
          b'</c></row>')


def rows(first: int, count: int) -> bytes:
    return b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>S%07d</t></is></c><c r="B%d"><v>%d</v></c></row>'
                    % (n, n, n, n, n % 100) for n in range(first, first + count))


def codes(parsed):
    return [issue.code for issue in parsed.issues]


def scan(xml: bytes, options: ParseOptions = ParseOptions(), chunk: int = CHUNK_BYTES) -> SheetScan:
    sheet = SheetScan("Stock", options)
    for start in range(0, len(xml), chunk):
        sheet.feed(xml[start: start + chunk])
    sheet.close()
    return sheet


def test_a_sheet_declaring_more_than_the_limit_is_refused_before_it_is_inflated(raw_xlsx):
    data = bytearray(raw_xlsx(HEADER + rows(2, 40_000)))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml")
    middle = info.header_offset + 100 + info.compress_size // 2
    data[middle: middle + 64] = bytes(64)   # a damaged stream: inflating it would fail
    parsed = parse_file(bytes(data), "qu.xlsx", ParseOptions(max_sheet_bytes=1024 * 1024))
    assert parsed.rejected and codes(parsed) == ["SHEET_TOO_LARGE"]
    assert parsed.issues[0].message == (
        f"sheet 'Stock' is too large to read: its XML would unpack to {info.file_size:,} bytes, over the limit "
        "of 1,048,576 (max_sheet_mb = 1); split the file or raise files.max_sheet_mb")


def test_the_same_sheet_within_the_limit_is_read(raw_xlsx):
    parsed = parse_file(raw_xlsx(HEADER + rows(2, 40_000)), "qu.xlsx", ParseOptions(max_sheet_bytes=8 * 1024 * 1024))
    assert not parsed.rejected and parsed.valid_rows == 40_000


def test_shared_strings_declaring_more_than_the_limit_are_refused(raw_xlsx):
    strings = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>' + b"x" * 300_000 + \
              b"</t></si></sst>"
    parsed = parse_file(raw_xlsx(HEADER, shared_strings=strings), "qu.xlsx", ParseOptions(max_sheet_bytes=200_000))
    assert codes(parsed) == ["SHEET_TOO_LARGE"]
    assert "its shared strings ('xl/sharedStrings.xml') would unpack to" in parsed.issues[0].message


def test_cells_repeating_a_long_shared_string_are_refused_before_calamine_copies_it_for_each(raw_xlsx):
    strings = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>SKU</t></si><si><t>MF'
               b"</t></si><si><t>" + b"x" * 3_000 + b"</t></si></sst>")
    header = b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    cells = b"".join(b'<row r="%d"><c r="A%d" t="s"><v>2</v></c><c r="B%d"><v>1</v></c></row>' % (n, n, n)
                     for n in range(2, 1_002))
    parsed = parse_file(raw_xlsx(header + cells, shared_strings=strings), "qu.xlsx",
                        ParseOptions(max_sheet_bytes=2 * 1024 * 1024))
    assert codes(parsed) == ["SHEET_TOO_LARGE"]
    assert parsed.issues[0].message.startswith("sheet 'Stock' is too large to read: its cells repeat shared "
                                               "strings of up to 3,0")
    few = b"".join(b'<row r="%d"><c r="A%d" t="s"><v>%d</v></c><c r="B%d"><v>1</v></c></row>'
                   % (n, n, 2 if n == 2 else 0, n) for n in range(2, 1_002))
    parsed = parse_file(raw_xlsx(header + few, shared_strings=strings), "qu.xlsx",
                        ParseOptions(max_sheet_bytes=2 * 1024 * 1024))
    assert not parsed.rejected and parsed.total_rows == 1_000   # one long string, named once: read


def test_a_part_is_inflated_in_bounded_steps_and_equals_its_content(raw_xlsx):
    sheet = HEADER + rows(2, 60_000)
    for stored in (False, True):
        data = raw_xlsx(sheet, stored=stored)
        archive = zipfile.ZipFile(io.BytesIO(data))
        chunks = list(member_chunks(data, archive.getinfo("xl/worksheets/sheet1.xml")))
        assert max(map(len, chunks)) <= CHUNK_BYTES and len(chunks) > 2
        assert b"".join(chunks) == archive.read("xl/worksheets/sheet1.xml")


def test_a_part_shorter_than_it_declares_is_unreadable(raw_xlsx):
    data = bytearray(raw_xlsx(HEADER + rows(2, 10)))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml")
    bigger = (info.file_size + 10).to_bytes(4, "little")
    data[info.header_offset + 22: info.header_offset + 26] = bigger
    central = bytes(data).rfind(b"PK\x01\x02")
    while bytes(data[central + 46: central + 46 + len(info.filename)]) != info.filename.encode():
        central = bytes(data).rfind(b"PK\x01\x02", 0, central)
    data[central + 24: central + 28] = bigger
    parsed = parse_file(bytes(data), "qu.xlsx")
    assert codes(parsed) == ["UNREADABLE_FILE"] and "does not match its declared size" in parsed.issues[0].message


def test_an_uncached_formula_and_an_error_cut_by_a_chunk_boundary_are_still_found(raw_xlsx):
    fill, last = [HEADER], 1
    size = len(SHEET_START) + len(HEADER)
    while size < CHUNK_BYTES - 150:   # the formula's row starts just before the first chunk ends
        last += 1
        fill.append(rows(last, 1))
        size += len(fill[-1])
    tail = (b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>F1</t></is></c><c r="B%d"><f>C%d*2</f></c></row>'
            b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>E1</t></is></c><c r="B%d" t="e"><v>#N/A</v></c></row>'
            % (last + 1, last + 1, last + 1, last + 1, last + 2, last + 2, last + 2))
    assert size < CHUNK_BYTES < size + len(tail)
    parsed = parse_file(raw_xlsx(b"".join(fill) + tail, stored=True), "qu.xlsx")
    assert [(i.row, i.code) for i in parsed.issues] == [(last + 1, "UNCACHED_FORMULA"), (last + 2, "CELL_ERROR")]


def test_a_doctype_cut_by_a_chunk_boundary_is_refused(raw_xlsx):
    sheet_start = b'<?xml version="1.0"?>'
    whole = sheet_start + b" " * (CHUNK_BYTES - len(sheet_start) - 4) + b"<!DOCTYPE x []><worksheet/>"
    parsed = parse_file(raw_xlsx(b"", whole_sheet=whole, stored=True), "qu.xlsx")
    assert codes(parsed) == ["XML_FORBIDDEN"]


@pytest.mark.parametrize("cell", [
    b'<c r="XFD3"><v>1</v></c>', b'<c r="xfd3"><v>1</v></c>', b"<c r='XFD3'><v>1</v></c>",
    b'<c s="1" r="XFD3"><v>1</v></c>', b'<c r = "XFD3" ><v>1</v></c>', b'<x:c r="XFD3"><x:v>1</x:v></x:c>',
    b'<c r="$XFD$3"><v>1</v></c>', b"<c><v>1</v></c>" * 1_001,
])
def test_a_value_beyond_the_column_limit_is_refused_however_its_cell_is_written(cell):
    sheet = scan_or_refusal(b"<sheetData>" + HEADER + b'<row r="3">' + cell + b"</row></sheetData>")
    assert sheet == "TOO_MANY_COLUMNS"


@pytest.mark.parametrize("cell", [
    b'<row r="2"><c r="ALL1048576"><v>1</v></c></row>',
    b'<row r="1048576">' + b"<c><v>1</v></c>" * 30 + b"</row>",
    b'<row r="2"><c r="B99999999999"><v>1</v></c></row>',
])
def test_a_grid_larger_than_a_sheet_of_the_size_limit_could_fill_is_refused(cell):
    assert scan_or_refusal(b"<sheetData>" + HEADER + cell + b"</sheetData>") == "SHEET_TOO_LARGE"


def test_the_refusal_names_the_sheet_the_grid_and_the_limit():
    from parsers.tables import TableReadError

    with pytest.raises(TableReadError) as refused:
        scan(SHEET_START + HEADER + b'<row r="2"><c r="ALL1048576"><v>1</v></c></row></sheetData></worksheet>')
    assert refused.value.issue.code == "SHEET_TOO_LARGE"
    assert refused.value.issue.message == (
        "sheet 'Stock' is too large to read: its cells span 1,048,576 rows by 1,000 columns (1,048,576,000 cells), "
        "more than the 20,971,520 cells max_sheet_mb = 320 allows; split the file or raise files.max_sheet_mb")


def test_empty_cells_far_out_are_ignored_as_calamine_ignores_them(raw_xlsx):
    data = raw_xlsx(HEADER + b'<row r="2"><c r="A2" t="inlineStr"><is><t>A1</t></is></c><c r="B2"><v>5</v></c>'
                    b'<c r="XFD2" s="3"/></row><row r="1048576"><c r="XFD1048576" s="3"/></row>')
    parsed = parse_file(data, "qu.xlsx")
    assert parsed.issues == [] and parsed.skus == ["A1"] and parsed.quantities == {"MF": [5]}


def scan_or_refusal(sheet_data: bytes) -> str | SheetScan:
    from parsers.tables import TableReadError

    try:
        return scan(b'<?xml version="1.0"?><worksheet>' + sheet_data + b"</worksheet>", chunk=64)
    except TableReadError as exc:
        return exc.issue.code


refs = st.sampled_from(["upper", "lower", "quoted", "late", "none"])
cells = st.lists(st.tuples(st.integers(1, 40), refs, st.booleans()), max_size=5)
sheets = st.lists(st.tuples(st.one_of(st.none(), st.integers(1, 120)), cells, st.integers(1, 120)), max_size=6)


@settings(max_examples=150, deadline=None)
@given(sheet=sheets, prefixed=st.booleans(), chunk=st.integers(5, 200))
def test_the_measured_grid_is_never_smaller_than_the_one_calamine_builds(sheet, prefixed, chunk):
    p = b"x:" if prefixed else b""
    body = []
    for row_r, row_cells, ref_row in sheet:
        body.append(b"<" + p + b"row" + (b' r="%d"' % row_r if row_r else b"") + b">")
        for column, style, valued in row_cells:
            letters = "".join(chr(65 + (column - 1) // 26 - 1) if column > 26 else "") + chr(65 + (column - 1) % 26)
            ref = {"upper": b' r="%s%d"', "lower": b' r="%s%d"', "quoted": b" r='%s%d'", "late": b' s="0" r="%s%d"',
                   "none": b""}[style]
            if style != "none":
                ref = ref % ((letters.lower() if style == "lower" else letters).encode(), row_r or ref_row)
            body.append(b"<" + p + b"c" + ref + (b"><" + p + b"v>1</" + p + b"v></" + p + b"c>" if valued else b"/>"))
        body.append(b"</" + p + b"row>")
    xml = (b'<?xml version="1.0"?><' + p + b"worksheet xmlns" + (b":x" if prefixed else b"")
           + b'="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><' + p + b"sheetData>" + b"".join(body)
           + b"</" + p + b"sheetData></" + p + b"worksheet>")
    try:
        grid = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(build_raw_xlsx(b"", whole_sheet=xml)))
        end = grid.get_sheet_by_name("Stock").end
    except python_calamine.CalamineError:
        return   # calamine refuses the sheet itself
    measured = scan(xml, chunk=chunk)
    if end is not None:
        assert measured.rows >= end[0] + 1 and measured.columns >= end[1] + 1
