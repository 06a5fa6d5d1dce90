"""CSV reading: encodings, delimiters, line ends, blank rows, text kept as written, unreadable files."""

import pytest

from parsers import ParseOptions, parse_file, read_table

QU = "SKU,Title,MF,EAST\r\nA1,Tote,5,\r\n00123,Lid,0,3\r\n"
STOCK = ParseOptions(kind="stock", mode="partial")


def codes(parsed):
    return [issue.code for issue in parsed.issues]


@pytest.mark.parametrize(("encoded", "encoding"), [
    ("SKU,Title,MF\nA1,Café crème,5\n".encode("utf-8"), "utf-8"),
    ("SKU,Title,MF\nA1,Café crème,5\n".encode("utf-8-sig"), "utf-8-sig"),
    ("SKU,Title,MF\nA1,Café crème,5\n".encode("utf-16"), "utf-16"),
    (b"\xfe\xff" + "SKU,Title,MF\nA1,Café crème,5\n".encode("utf-16-be"), "utf-16"),
    ("SKU,Title,MF\nA1,Café crème,5\n".encode("cp1252"), "cp1252"),
])
def test_the_same_content_in_every_supported_encoding_gives_the_same_rows(encoded, encoding):
    parsed = parse_file(encoded, "stock.csv")
    assert (parsed.encoding, parsed.header, parsed.skus, parsed.quantities) == (
        encoding, ["SKU", "Title", "MF"], ["A1"], {"MF": [5]})


def test_a_file_read_as_windows_1252_carries_a_warning_with_the_first_bad_byte():
    parsed = parse_file("SKU;Description;Qty\nA1;Crème;5\n".encode("cp1252"), "erp.csv", STOCK)
    assert codes(parsed) == ["ENCODING_FALLBACK"]
    assert "line 2, byte offset 25" in parsed.issues[0].message
    assert parsed.rejected is False


def test_utf16_without_a_byte_order_mark_is_refused_with_advice():
    parsed = parse_file("SKU,MF\nA1,5\n".encode("utf-16-le"), "x.csv")
    assert parsed.rejected and codes(parsed) == ["UNREADABLE_FILE"]
    assert "UTF-16 without a byte-order mark" in parsed.issues[0].message


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed_from_the_header(delimiter):
    text = delimiter.join(["Item Number", "Description", "QtyOnHand"]) + "\n"
    text += delimiter.join(["B-100", "Mug", "7"]) + "\n"
    parsed = parse_file(text.encode(), "erp.txt", STOCK)
    assert (parsed.delimiter, parsed.skus, parsed.quantities) == (delimiter, ["B-100"], {"quantity": [7]})


def test_a_semicolon_file_whose_headers_contain_commas_is_still_read_by_semicolon():
    text = "Item Number;Description, long form, with commas, many;QtyOnHand\nA1;Mug, blue, large, new;4\n"
    parsed = parse_file(text.encode(), "erp.csv", STOCK)
    assert (parsed.delimiter, parsed.skus, parsed.quantities["quantity"]) == (";", ["A1"], [4])


def test_decimal_comma_values_in_a_semicolon_file_do_not_confuse_the_sniffer():
    text = "SKU;Price;Qty\nA1;12,50;4\nA2;3,99;5\n"
    parsed = parse_file(text.encode(), "erp.csv", STOCK)
    assert (parsed.delimiter, parsed.quantities["quantity"]) == (";", [4, 5])


def test_a_header_with_no_known_column_is_rejected_naming_what_was_looked_for():
    parsed = parse_file(b"Code:Stock\nA1:5\n", "odd.csv", STOCK)
    assert parsed.rejected
    assert codes(parsed) == ["MISSING_COLUMN", "MISSING_COLUMN"]
    assert "'SKU', 'Item', 'Item Number'" in parsed.issues[0].message
    assert "'Code:Stock'" in parsed.issues[0].message


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_crlf_lf_and_cr_line_ends_read_alike(newline):
    parsed = parse_file(newline.join(["SKU,MF", "A1,5", "A2,6", ""]).encode(), "x.csv")
    assert (parsed.skus, parsed.quantities) == (["A1", "A2"], {"MF": [5, 6]})


def test_blank_rows_are_skipped_but_keep_their_spreadsheet_row_numbers():
    parsed = parse_file(b"SKU,MF,EAST\n\nA1,5,\n,,\n  ,  ,\nA2,x,1\n", "x.csv")
    assert parsed.total_rows == 2
    assert parsed.row_numbers == [3]
    assert [(i.row, i.code) for i in parsed.issues] == [(6, "NOT_AN_INTEGER")]


def test_leading_blank_lines_move_the_header_down_and_rows_keep_their_numbers():
    parsed = parse_file(b"\n\nSKU,MF\nA1,x\n", "x.csv")
    assert parsed.header == ["SKU", "MF"]
    assert [(i.row, i.column, i.value) for i in parsed.issues] == [(4, "MF", "x")]


def test_a_quoted_cell_spanning_lines_is_one_spreadsheet_row():
    parsed = parse_file(b'SKU,Title,MF\nA1,"two\nlines",5\nA2,x,y\n', "x.csv")
    assert parsed.skus == ["A1"]
    assert [(i.row, i.code) for i in parsed.issues] == [(3, "NOT_AN_INTEGER")]


@pytest.mark.parametrize("sku", ["00123", "NA", "null", "NaN", "TRUE", "1-Mar", "SEPT2", "44621", "0000"])
def test_every_sku_stays_exactly_as_written(sku):
    parsed = parse_file(f"SKU,MF\n{sku},1\n".encode(), "x.csv")
    assert parsed.skus == [sku]
    assert parsed.issues == []


def test_skus_are_trimmed_and_case_sensitive():
    parsed = parse_file(b"SKU,MF\n  a1 ,1\nA1,2\n", "x.csv")
    assert (parsed.skus, parsed.quantities["MF"]) == (["a1", "A1"], [1, 2])


def test_an_empty_file_is_rejected_as_empty():
    for data in (b"", b"\n\n  \n", "\ufeff".encode("utf-8")):
        parsed = parse_file(data, "empty.csv")
        assert parsed.rejected and codes(parsed) == ["EMPTY_FILE"], data


@pytest.mark.parametrize(("data", "name", "fragment"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "old.xls", "Excel 97-2003"),
    (b"%PDF-1.7 ...", "stock.csv", "PDF"),
    (b"<html><table><tr><td>SKU</td></tr></table></html>", "stock.xls", "HTML"),
])
def test_known_foreign_formats_are_refused_as_unsupported_with_advice(data, name, fragment):
    parsed = parse_file(data, name)
    assert parsed.rejected and codes(parsed) == ["UNSUPPORTED_FILE_TYPE"]
    assert fragment in parsed.issues[0].message and "save it as .xlsx or .csv" in parsed.issues[0].message


def test_random_binary_bytes_are_unreadable_not_a_crash():
    parsed = parse_file(bytes(range(256)) * 4, "stock.csv")
    assert parsed.rejected and codes(parsed) == ["UNREADABLE_FILE"]


def test_a_text_file_named_xlsx_is_unreadable_because_it_is_not_a_workbook():
    parsed = parse_file(QU.encode(), "stock.xlsx")
    assert parsed.rejected and codes(parsed) == ["UNREADABLE_FILE"]
    assert "not a zip archive" in parsed.issues[0].message


def test_a_csv_named_xls_is_read_as_the_csv_it_is():
    parsed = parse_file(QU.encode(), "export.xls")
    assert (parsed.format, parsed.skus) == ("csv", ["A1", "00123"])


def test_a_file_over_the_size_limit_is_refused_before_reading():
    parsed = parse_file(QU.encode(), "x.csv", ParseOptions(max_bytes=10))
    assert parsed.rejected and codes(parsed) == ["FILE_TOO_LARGE"]
    assert "over the limit of 10 bytes" in parsed.issues[0].message


def test_a_cell_beyond_the_csv_field_size_limit_makes_the_file_unreadable_at_its_row():
    data = b"SKU,Title,MF\nA1,x,1\nA2," + b"y" * 200_000 + b",2\n"
    parsed = parse_file(data, "x.csv")
    assert parsed.rejected and parsed.skus == []
    assert [(i.code, i.row) for i in parsed.issues] == [("UNREADABLE_FILE", 3)]


def test_read_table_gives_the_header_and_every_row_as_text_with_its_spreadsheet_number():
    table = read_table(b"SKU;MF\r\n00123;5\r\n\r\nNA;1.0\r\n", "x.csv")
    assert (table.format, table.delimiter, table.header, table.header_row) == ("csv", ";", ["SKU", "MF"], 1)
    assert list(table.rows) == [(2, ["00123", "5"]), (3, []), (4, ["NA", "1.0"])]
