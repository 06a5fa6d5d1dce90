"""Workbooks built to exhaust memory or expand entities are refused before any cell is read."""

import io
import zipfile

import pytest

from parsers import ParseOptions, parse_file

BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>')


def codes(parsed):
    return [issue.code for issue in parsed.issues]


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml",
                                  "xl/styles.xml"])
def test_a_dtd_or_entity_in_any_part_calamine_reads_is_refused(xlsx, rewrite, part):
    data = xlsx([["SKU", "MF"], ["A1", 5]])
    if part == "xl/sharedStrings.xml":
        data = _with_shared_strings(data)

    def inject(name, content):
        if name != part:
            return content
        return BILLION_LAUGHS + content.split(b"?>", 1)[-1]

    parsed = parse_file(rewrite(data, inject), "qu.xlsx")
    assert parsed.rejected and codes(parsed) == ["XML_FORBIDDEN"]
    assert f"'{part}'" in parsed.issues[0].message


def test_a_utf16_encoded_dtd_is_refused_too(xlsx, rewrite):
    data = rewrite(xlsx([["SKU", "MF"], ["A1", 5]]), lambda name, content: (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x>'.encode("utf-16-le") + content
        if name == "xl/worksheets/sheet1.xml" else content))
    assert codes(parse_file(data, "qu.xlsx")) == ["XML_FORBIDDEN"]


def test_a_lowercase_doctype_is_refused_but_comments_and_cdata_are_not(xlsx, rewrite):
    def add(prefix):
        return rewrite(xlsx([["SKU", "MF"], ["A1", 5]]), lambda name, content: (
            prefix + content.split(b"?>", 1)[-1] if name == "xl/worksheets/sheet1.xml" else content))
    assert codes(parse_file(add(b'<?xml version="1.0"?><!doctype x>'), "qu.xlsx")) == ["XML_FORBIDDEN"]
    assert parse_file(add(b'<?xml version="1.0"?><!-- written by an ERP -->'), "qu.xlsx").skus == ["A1"]


def test_a_workbook_declaring_more_than_the_uncompressed_limit_is_refused(xlsx):
    parsed = parse_file(xlsx([["SKU", "MF"], ["A1", 5]]), "qu.xlsx", ParseOptions(max_uncompressed_bytes=5_000))
    assert parsed.rejected and codes(parsed) == ["ZIP_BOMB"]
    assert "(limit 5,000)" in parsed.issues[0].message


def test_a_member_compressed_more_than_the_ratio_limit_is_refused(xlsx):
    buffer = io.BytesIO(xlsx([["SKU", "MF"], ["A1", 5]]))
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.xml", b"\x00" * (8 * 1024 * 1024))
    parsed = parse_file(buffer.getvalue(), "qu.xlsx")
    assert parsed.rejected and codes(parsed) == ["ZIP_BOMB"]
    assert "'xl/media/padding.xml' is compressed" in parsed.issues[0].message


def test_a_zip_with_too_many_members_is_refused(xlsx):
    buffer = io.BytesIO(xlsx([["SKU", "MF"], ["A1", 5]]))
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_STORED) as archive:
        for number in range(10_001):
            archive.writestr(f"x/{number}", b"")
    parsed = parse_file(buffer.getvalue(), "qu.xlsx")
    assert parsed.rejected and "members (limit 10,000)" in parsed.issues[0].message


def test_a_member_whose_real_size_exceeds_its_declared_size_is_refused(xlsx, rewrite):
    data = bytearray(xlsx([["SKU", "MF"], ["A1", 5]]))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    member = archive.getinfo("xl/worksheets/sheet1.xml")
    # Lie about the uncompressed size in both headers: the reader must not trust it past the CRC check.
    lie = (64).to_bytes(4, "little")
    local = member.header_offset
    data[local + 22: local + 26] = lie
    central = bytes(data).rfind(b"PK\x01\x02", 0, len(data))
    while central >= 0:
        name_length = int.from_bytes(data[central + 28: central + 30], "little")
        if bytes(data[central + 46: central + 46 + name_length]) == member.filename.encode():
            data[central + 24: central + 28] = lie
            break
        central = bytes(data).rfind(b"PK\x01\x02", 0, central)
    parsed = parse_file(bytes(data), "qu.xlsx")
    assert parsed.rejected and codes(parsed) == ["ZIP_BOMB"]
    assert "'xl/worksheets/sheet1.xml' unpacks to more than the 64 bytes it declares" in parsed.issues[0].message


def _with_shared_strings(data: bytes) -> bytes:
    """openpyxl writes inline strings; add a sharedStrings part the workbook references."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            target.writestr(member.filename, source.read(member.filename))
        target.writestr("xl/sharedStrings.xml", b'<?xml version="1.0"?><sst xmlns="http://schemas.'
                        b'openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"/>')
    return buffer.getvalue()
