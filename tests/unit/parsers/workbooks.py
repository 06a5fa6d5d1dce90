"""Workbooks written from raw sheet XML, for the tests of what the XLSX reader does with odd or hostile XML."""

from __future__ import annotations

import io
import zipfile

_CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                  b'2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                  b'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
                  b'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                  b'spreadsheetml.sheet.main+xml"/></Types>')
_ROOT_RELS = (b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
              b'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
              b'Target="xl/workbook.xml"/></Relationships>')
_RELS = (b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         b'worksheet" Target="worksheets/sheet1.xml"/>%s</Relationships>')
_SST_REL = (b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            b'sharedStrings" Target="sharedStrings.xml"/>')
SHEET_START = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
               b'spreadsheetml/2006/main"><sheetData>')
SHEET_END = b"</sheetData></worksheet>"


def build_raw_xlsx(sheet_data: bytes, *, shared_strings: bytes | None = None, stored: bool = False,
                   whole_sheet: bytes | None = None) -> bytes:
    """A minimal workbook with one sheet 'Stock' whose <sheetData> holds `sheet_data` (or whose whole XML
    is `whole_sheet`), optionally with a shared strings part; its sheet stored (not deflated) if `stored`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                         b'2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                         b'<sheets><sheet name="Stock" sheetId="1" r:id="rId1"/></sheets></workbook>')
        archive.writestr("xl/_rels/workbook.xml.rels", _RELS % (_SST_REL if shared_strings is not None else b""))
        if shared_strings is not None:
            archive.writestr("xl/sharedStrings.xml", shared_strings)
        sheet = whole_sheet if whole_sheet is not None else SHEET_START + sheet_data + SHEET_END
        archive.writestr("xl/worksheets/sheet1.xml", sheet,
                         compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


