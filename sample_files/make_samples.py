"""Regenerate the sample files in this folder: `python sample_files/make_samples.py`.

The XLSX and the Windows-1252 CSV are binary, so they are written from this script rather than by
hand; the plain CSVs are written here too so every sample has one source.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
QUANTITY_UPDATE_ROWS = [
    ["SKU", "Title", "MF", "EAST", "WEST"],
    ["A1", "Canvas tote bag", "12", "4", ""],
    ["A2", "Canvas tote bag, large", "0", "", "7"],
    ["B-100", "Enamel mug", "25", "25", "25"],
    ["00123", "Spare lid (SKU keeps its leading zeros)", "3", "0", ""],
]
ERP_ROWS = [
    ["Item Number", "Description", "QtyOnHand"],
    ["A1", "Canvas tote bag", "40"],
    ["B-100", "Enamel mug – café edition", "125"],
    ["00123", "Spare lid", "0"],
]
EVERY_ISSUE_ROWS = [
    ["SKU", "Description", "Quantity"],
    ["A1", "A valid row", "5"],
    ["A2", "NOT_AN_INTEGER: thousands separator", "1,234"],
    ["B-100", "NEGATIVE_QUANTITY: below zero outside a delta file", "-5"],
    ["B-200", "SIGNED_QUANTITY: a plus sign in an absolute file", "+5"],
    ["B-300", "QUANTITY_TOO_LARGE: a barcode pasted as a quantity", "5012345678900"],
    ["B-400", "EMPTY_QUANTITY: no quantity", ""],
    ["", "INVALID_SKU: values but no SKU", "7"],
    ["1.23E+11", "SKU_LOOKS_MANGLED: scientific notation", "3"],
    ["C-1", "DUPLICATE_SKU: first of a conflicting pair", "4"],
    ["C-1", "DUPLICATE_SKU: second of a conflicting pair", "6"],
    ["C-2", "Valid; the next row repeats it", "8"],
    ["C-2", "DUPLICATE_SKU_AGREES: repeats the row above", "8"],
    ["ZZ-NOT-IN-CATALOG", "UNKNOWN_SKU: raised by the pipeline, not the parser", "1"],
]


def csv_text(rows: list[list[str]], delimiter: str = ",") -> str:
    """Rows as CSV text with CRLF line ends, the way spreadsheet programs write it."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def quantity_update_xlsx() -> bytes:
    """The Quantity Update sample as a workbook: SKUs stored as text, quantities as numbers."""
    workbook = Workbook()
    workbook.properties.created = workbook.properties.modified = datetime(2024, 3, 1)
    sheet = workbook.active
    sheet.title = "Quantity Update"
    sheet.append(QUANTITY_UPDATE_ROWS[0])
    for sku, title, *quantities in QUANTITY_UPDATE_ROWS[1:]:
        sheet.append([sku, title, *(int(q) if q else None for q in quantities)])
    for cell in sheet["A"]:
        cell.number_format = "@"  # text, so a spreadsheet keeps 00123 as typed
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def main() -> None:
    """Write every sample file next to this script."""
    (HERE / "quantity_update.csv").write_bytes(csv_text(QUANTITY_UPDATE_ROWS).encode("utf-8"))
    (HERE / "quantity_update.xlsx").write_bytes(quantity_update_xlsx())
    (HERE / "erp_stock_export.csv").write_bytes(csv_text(ERP_ROWS, ";").encode("cp1252"))
    (HERE / "every_issue.csv").write_bytes(csv_text(EVERY_ISSUE_ROWS).encode("utf-8"))


if __name__ == "__main__":
    main()
