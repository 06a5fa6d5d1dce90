"""XLSX reading: sheet choice, typed cells back to text, formulas, and refusal of unsafe workbooks."""

import io
import zipfile
from datetime import date, datetime

import pytest

from parsers import ParseOptions, parse_file

STOCK = ParseOptions(kind="stock", mode="partial")


def codes(parsed):
    return [issue.code for issue in parsed.issues]


def test_a_quantity_update_workbook_reads_like_its_csv(xlsx):
    data = xlsx([["SKU", "Title", "MF", "EAST"], ["00123", "Lid", 5, None], ["A1", "Tote", 0, 12]])
    parsed = parse_file(data, "qu.xlsx")
    assert (parsed.format, parsed.sheet, parsed.skus) == ("xlsx", "Sheet1", ["00123", "A1"])
    assert parsed.quantities == {"MF": [5, 0], "EAST": [None, 12]}
    assert parsed.issues == []


def test_the_format_comes_from_the_content_not_the_name(xlsx):
    parsed = parse_file(xlsx([["SKU", "MF"], ["A1", 5]]), "mislabelled.csv")
    assert (parsed.format, parsed.skus) == ("xlsx", ["A1"])


def test_a_table_that_starts_below_and_right_of_a1_keeps_spreadsheet_row_numbers(xlsx):
    data = xlsx([["SKU", "MF"], ["A1", 5], [None, None], ["A2", "x"]], start_cell=(3, 2))
    parsed = parse_file(data, "qu.xlsx")
    assert (parsed.skus, parsed.row_numbers) == (["A1"], [4])
    assert [(i.row, i.column, i.value) for i in parsed.issues] == [(6, "MF", "x")]


def test_a_numeric_sku_reads_back_without_a_trailing_point_zero(xlsx):
    parsed = parse_file(xlsx([["SKU", "MF"], [123.0, 1], [456, 2]]), "qu.xlsx")
    assert parsed.skus == ["123", "456"]
    assert parsed.issues == []


@pytest.mark.parametrize(("cell", "sku", "reason"), [
    (12.5, "12.5", "fraction"),
    (123000000000.0, "123000000000", "scientific notation"),
    (datetime(2024, 3, 1), "2024-03-01", "a date"),
    (date(2024, 3, 1), "2024-03-01", "a date"),
])
def test_a_sku_cell_a_spreadsheet_probably_converted_is_kept_as_a_suspect(xlsx, cell, sku, reason):
    parsed = parse_file(xlsx([["SKU", "MF"], [cell, 1]]), "qu.xlsx")
    assert parsed.skus == [sku] and parsed.issues == []
    assert reason in parsed.suspect_skus[sku]   # the pipeline refuses it unless the catalog has it


def test_a_number_cell_of_more_than_15_digits_is_an_error_not_another_sku(xlsx):
    parsed = parse_file(xlsx([["SKU", "MF"], [123456789012345678, 1]]), "qu.xlsx")
    assert parsed.skus == [] and codes(parsed) == ["SKU_LOOKS_MANGLED"]
    issue = parsed.issues[0]
    assert (issue.severity, issue.value, issue.sku) == ("error", "123456789012346000", "123456789012346000")
    assert "18 digits" in issue.message and "can be neither matched nor created" in issue.message


def test_scientific_notation_typed_as_text_in_a_sku_cell_is_a_suspect(xlsx):
    parsed = parse_file(xlsx([["SKU", "MF"], ["1.23E+11", 1]]), "qu.xlsx")
    assert parsed.suspect_skus == {"1.23E+11": "scientific notation"}


def test_a_boolean_sku_cell_reads_as_the_word_the_user_typed(xlsx):
    parsed = parse_file(xlsx([["SKU", "MF"], [True, 1]]), "qu.xlsx")
    assert parsed.skus == ["TRUE"]


@pytest.mark.parametrize(("cell", "expected"), [(12, 12), (12.0, 12), ("12", 12), (" 12 ", 12)])
def test_whole_number_quantity_cells_are_accepted(xlsx, cell, expected):
    parsed = parse_file(xlsx([["SKU", "MF"], ["A1", cell]]), "qu.xlsx")
    assert parsed.quantities == {"MF": [expected]}


@pytest.mark.parametrize(("cell", "value"), [(12.5, "12.5"), (datetime(2024, 3, 1), "2024-03-01"),
                                             (True, "TRUE")])
def test_quantity_cells_that_are_not_whole_numbers_are_errors_naming_the_value(xlsx, cell, value):
    parsed = parse_file(xlsx([["SKU", "MF"], ["A1", cell]]), "qu.xlsx")
    assert [(i.code, i.value) for i in parsed.issues] == [("NOT_AN_INTEGER", value)]
    assert parsed.failed_skus == {"A1"}


def test_a_formula_with_a_cached_value_gives_that_value(xlsx, rewrite):
    data = rewrite(xlsx([["SKU", "MF"], ["A1", 14]]), lambda name, part: part.replace(
        b'<c r="B2" t="n"><v>14</v></c>', b'<c r="B2"><f>7*2</f><v>14</v></c>'))
    parsed = parse_file(data, "qu.xlsx")
    assert (parsed.quantities, parsed.issues) == ({"MF": [14]}, [])


@pytest.mark.parametrize("formula_cell", [
    b'<c r="B2"><f>A9*2</f></c>', b'<c r="B2"><f>A9*2</f><v/></c>', b'<c r="B2" s="0"><f>A9*2</f><v></v></c>',
    b'<c r="B2"><f t="shared" si="0"/></c>', b'<c r="B2">\n  <f>A9*2</f>\n  <v/>\n</c>',
])
def test_a_formula_without_a_cached_value_is_an_error_on_its_row(xlsx, rewrite, formula_cell):
    data = rewrite(xlsx([["SKU", "MF"], ["A1", 14], ["A2", 3]]), lambda name, part: part.replace(
        b'<c r="B2" t="n"><v>14</v></c>', formula_cell))
    parsed = parse_file(data, "qu.xlsx")
    assert [(i.code, i.row, i.column) for i in parsed.issues] == [("UNCACHED_FORMULA", 2, "MF")]
    assert (parsed.skus, parsed.failed_skus) == (["A2"], {"A1"})


def test_an_uncached_formula_in_an_informational_column_does_not_matter(xlsx, rewrite):
    data = rewrite(xlsx([["SKU", "Title", "MF"], ["A1", "x", 14]]), lambda name, part: part.replace(
        b'<c r="B2" t="inlineStr"><is><t>x</t></is></c>', b'<c r="B2"><f>CONCAT("a","b")</f></c>'))
    parsed = parse_file(data, "qu.xlsx")
    assert (parsed.skus, parsed.issues) == (["A1"], [])


def test_a_spreadsheet_error_value_in_a_quantity_cell_is_an_error_not_an_empty_cell(xlsx, rewrite):
    data = rewrite(xlsx([["SKU", "MF"], ["A1", 14]]), lambda name, part: part.replace(
        b'<c r="B2" t="n"><v>14</v></c>', b'<c r="B2" t="e"><f>VLOOKUP(A2,X,2)</f><v>#N/A</v></c>'))
    parsed = parse_file(data, "qu.xlsx")
    assert [(i.code, i.value) for i in parsed.issues] == [("CELL_ERROR", "#N/A")]
    assert parsed.skus == []


def test_a_hidden_first_sheet_is_skipped_with_a_warning(xlsx):
    data = xlsx([["SKU", "MF"], ["A1", 5]], title="Stock", hidden_first=[["lookup"], ["x"]])
    parsed = parse_file(data, "qu.xlsx")
    assert (parsed.sheet, parsed.skus) == ("Stock", ["A1"])
    assert [(i.code, i.message) for i in parsed.issues] == [
        ("HIDDEN_SHEET_SKIPPED", "sheet 'Hidden lookup' is hidden and was skipped; read sheet 'Stock'")]


def test_a_configured_sheet_is_read_even_when_it_is_not_first(xlsx):
    data = xlsx([["SKU", "MF"], ["A1", 5]], title="Stock", hidden_first=[["SKU", "MF"], ["Z9", 1]])
    parsed = parse_file(data, "qu.xlsx", ParseOptions(sheet="Hidden lookup"))
    assert (parsed.sheet, parsed.skus, parsed.issues) == ("Hidden lookup", ["Z9"], [])


def test_a_configured_sheet_that_does_not_exist_is_named_with_the_sheets_there_are(xlsx):
    parsed = parse_file(xlsx([["SKU", "MF"]], title="Stock"), "qu.xlsx", ParseOptions(sheet="Inventory"))
    assert parsed.rejected and codes(parsed) == ["SHEET_NOT_FOUND"]
    assert parsed.issues[0].message == "the workbook has no sheet 'Inventory'; its sheets are 'Stock'"


def test_an_empty_sheet_is_an_empty_file(xlsx):
    parsed = parse_file(xlsx([]), "qu.xlsx")
    assert parsed.rejected and codes(parsed) == ["EMPTY_FILE"]


def test_a_header_only_workbook_is_a_warning_not_a_rejection(xlsx):
    parsed = parse_file(xlsx([["SKU", "MF"]]), "qu.xlsx")
    assert (parsed.rejected, codes(parsed)) == (False, ["HEADER_ONLY"])


def test_an_xlsm_with_macros_is_read_for_its_cells_only(xlsx, rewrite):
    data = xlsx([["SKU", "MF"], ["A1", 5]])
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"\x00macro bytes that must never run")
    parsed = parse_file(buffer.getvalue(), "qu.xlsm")
    assert (parsed.skus, parsed.rejected) == (["A1"], False)


def test_a_corrupt_zip_named_xlsx_is_unreadable(xlsx):
    data = xlsx([["SKU", "MF"], ["A1", 5]])
    parsed = parse_file(data[: len(data) // 2], "qu.xlsx")
    assert parsed.rejected and codes(parsed) == ["UNREADABLE_FILE"]
    assert "damaged zip" in parsed.issues[0].message


def test_a_zip_that_is_not_a_workbook_is_unreadable():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    parsed = parse_file(buffer.getvalue(), "qu.xlsx")
    assert parsed.rejected and "not an Excel workbook" in parsed.issues[0].message


def test_an_opendocument_spreadsheet_is_unsupported_with_advice():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    parsed = parse_file(buffer.getvalue(), "stock.ods")
    assert parsed.rejected and codes(parsed) == ["UNSUPPORTED_FILE_TYPE"]
    assert "OpenDocument" in parsed.issues[0].message
