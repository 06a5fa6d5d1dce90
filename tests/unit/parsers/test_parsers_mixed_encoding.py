"""A CSV that falls back to Windows-1252 may hold rows written in UTF-8: such a row would be misread
(`café` as `cafÃ©`), so it is an error (MIXED_ENCODING) naming the row, never applied."""

from parsers import ParseOptions, parse_file

CP1252_ROW = "B1,Crème brûlée,3\n".encode("cp1252")
UTF8_ROW = "MIX-café,Tasse,5\n".encode("utf-8")


def parse(data: bytes, options: ParseOptions = ParseOptions(kind="stock", mode="partial")):
    return parse_file(data, "stock.csv", options)


def test_a_utf8_row_in_a_windows_1252_file_is_an_error_naming_the_row_and_its_utf8_text():
    parsed = parse(b"SKU,Title,Qty\n" + CP1252_ROW + UTF8_ROW + b"C1,plain,2\n")
    assert parsed.encoding == "cp1252"
    assert parsed.skus == ["B1", "C1"] and parsed.quantities == {"quantity": [3, 2]}
    [mixed] = [i for i in parsed.issues if i.code == "MIXED_ENCODING"]
    assert (mixed.row, mixed.column, mixed.value, mixed.severity) == (3, "SKU", "MIX-cafÃ©", "error")
    assert "'MIX-café' in UTF-8" in mixed.message
    assert parsed.failed_skus == {"MIX-cafÃ©"} and "MIX-cafÃ©" not in parsed.skus


def test_the_issue_names_the_first_cell_whose_text_is_utf8():
    parsed = parse(b"SKU,Title,Qty\n" + CP1252_ROW + "A7,Café,4\n".encode("utf-8"))
    [mixed] = [i for i in parsed.issues if i.code == "MIXED_ENCODING"]
    assert (mixed.row, mixed.column, mixed.value) == (3, "Title", "CafÃ©")


def test_a_quoted_utf8_field_spanning_lines_flags_its_row_and_keeps_later_row_numbers():
    data = (b"SKU,Title,Qty\n" + CP1252_ROW + '"A7","two\nlines café",4\n'.encode("utf-8") + b"C1,plain,2\n")
    parsed = parse(data)
    assert [(i.row, i.code) for i in parsed.issues if i.severity == "error"] == [(3, "MIXED_ENCODING")]
    assert parsed.skus == ["B1", "C1"] and parsed.row_numbers == [2, 4]


def test_ascii_rows_and_windows_1252_rows_of_a_fallback_file_are_applied():
    parsed = parse(b"SKU,Title,Qty\n" + CP1252_ROW + b"C1,plain,2\n")
    assert parsed.skus == ["B1", "C1"] and [i.code for i in parsed.issues] == ["ENCODING_FALLBACK"]


def test_a_file_that_is_utf8_throughout_has_no_such_issue():
    parsed = parse(b"SKU,Title,Qty\n" + "B1,Crème brûlée,3\n".encode("utf-8") + UTF8_ROW)
    assert parsed.encoding == "utf-8" and parsed.issues == [] and parsed.skus == ["B1", "MIX-café"]


def test_a_quantity_update_row_in_utf8_is_refused_too():
    parsed = parse(b"SKU,Title,MF\n" + CP1252_ROW + UTF8_ROW, ParseOptions())
    assert parsed.skus == ["B1"] and [i.row for i in parsed.issues if i.code == "MIXED_ENCODING"] == [3]
