"""The Quantity Update template: warehouse columns, empty cells, duplicates, failed rows, as_of."""

from datetime import datetime, timezone

from parsers import ParseOptions, parse_file


def parse(text: str, options: ParseOptions = ParseOptions()):
    return parse_file(text.encode(), "quantity_update.csv", options)


def codes(parsed):
    return [issue.code for issue in parsed.issues]


def test_each_warehouse_column_gets_its_own_quantities_and_an_empty_cell_leaves_the_level_alone():
    parsed = parse("SKU,Title,MF,EAST,WEST\nA1,Tote,12,4,\nA2,Mug,0,,7\n")
    assert parsed.warehouse_columns == ["MF", "EAST", "WEST"]
    assert parsed.quantities == {"MF": [12, 0], "EAST": [4, None], "WEST": [None, 7]}
    assert (parsed.skus, parsed.row_numbers, parsed.total_rows) == (["A1", "A2"], [2, 3], 2)


def test_informational_columns_are_ignored_and_anything_else_is_listed_as_a_warehouse_column():
    parsed = parse("SKU,Title,Name,Description,Size,UPC,ASIN,EASTT\nA1,t,n,d,s,u,a,3\n")
    assert parsed.warehouse_columns == ["EASTT"]
    assert parsed.quantities == {"EASTT": [3]}


def test_configured_informational_columns_replace_the_defaults():
    parsed = parse("SKU,Colour,MF\nA1,red,3\n", ParseOptions(informational_columns=("Colour",)))
    assert parsed.warehouse_columns == ["MF"]


def test_the_sku_column_is_found_wherever_it_is_and_by_any_alias():
    parsed = parse("MF,Product Code,EAST\n3,B-100,4\n")
    assert (parsed.skus, parsed.warehouse_columns) == (["B-100"], ["MF", "EAST"])


def test_a_template_without_a_sku_column_is_rejected():
    parsed = parse("Code,MF\nA1,3\n")
    assert parsed.rejected and codes(parsed) == ["MISSING_COLUMN"]


def test_a_template_without_any_warehouse_column_is_rejected():
    parsed = parse("SKU,Title\nA1,Tote\n")
    assert parsed.rejected and codes(parsed) == ["MISSING_COLUMN"]
    assert "no warehouse column" in parsed.issues[0].message


def test_two_sku_columns_are_ambiguous():
    parsed = parse("SKU,Item,MF\nA1,A1,3\n")
    assert parsed.rejected and codes(parsed) == ["AMBIGUOUS_COLUMN"]
    assert "'SKU', 'Item'" in parsed.issues[0].message


def test_the_same_warehouse_twice_is_ambiguous():
    parsed = parse("SKU,MF,EAST,MF\nA1,1,2,3\n")
    assert parsed.rejected and codes(parsed) == ["AMBIGUOUS_COLUMN"]
    assert "warehouse 'MF'" in parsed.issues[0].message


def test_a_column_with_neither_header_nor_values_is_ignored():
    parsed = parse("SKU,MF,,\nA1,1,,\nA2,2\n")
    assert (parsed.rejected, parsed.skus, parsed.warehouse_columns) == (False, ["A1", "A2"], ["MF"])


def test_a_column_with_values_but_no_header_rejects_the_file_naming_its_position():
    parsed = parse("SKU,MF,,EAST\nA1,1,,2\nA2,2,9,3\n")
    assert parsed.rejected and parsed.skus == []
    assert [(i.code, i.row, i.message) for i in parsed.issues] == [
        ("UNNAMED_COLUMN", 3, "column C has values but no header; name it or delete it")]


def test_values_beyond_the_last_header_are_a_column_without_a_name():
    parsed = parse("SKU,MF\nA1,1,5\n")
    assert parsed.rejected and codes(parsed) == ["UNNAMED_COLUMN"]
    assert "column C" in parsed.issues[0].message


def test_a_row_with_any_error_is_left_out_entirely_and_its_sku_is_failed():
    parsed = parse("SKU,MF,EAST\nA1,5,abc\nA2,1,2\n")
    assert (parsed.skus, parsed.quantities) == (["A2"], {"MF": [1], "EAST": [2]})
    assert parsed.failed_skus == {"A1"}
    assert [(i.row, i.column, i.value, i.code) for i in parsed.issues] == [(2, "EAST", "abc", "NOT_AN_INTEGER")]
    assert parsed.error_rows == 1


def test_an_error_issue_reads_as_the_report_json_expects():
    parsed = parse("SKU,MF,EAST\nA1,5,abc\n")
    assert parsed.issues[0].as_dict() == {
        "row": 2, "sku": "A1", "column": "EAST", "value": "abc", "severity": "error", "code": "NOT_AN_INTEGER",
        "message": "quantity 'abc' is not a whole number"}
    assert list(parsed.issues[0].as_dict()) == ["row", "sku", "column", "value", "severity", "code", "message"]


def test_a_row_with_values_but_no_sku_is_an_invalid_sku_error():
    parsed = parse("SKU,MF\n,5\n")
    assert [(i.code, i.row) for i in parsed.issues] == [("INVALID_SKU", 2)]
    assert parsed.failed_skus == set()


def test_a_sku_with_a_control_character_is_shown_escaped_in_the_report():
    parsed = parse('SKU,MF\n"A\x071",5\n')
    assert codes(parsed) == ["INVALID_SKU"]
    assert parsed.issues[0].value == "A\\u00071"
    assert "U+0007" in parsed.issues[0].message


def test_conflicting_duplicate_skus_fail_both_rows_each_naming_the_other():
    parsed = parse("SKU,MF\nA1,5\nA2,1\nA1,6\n")
    assert parsed.skus == ["A2"]
    assert parsed.failed_skus == {"A1"}
    assert [(i.row, i.code, i.message) for i in parsed.issues] == [
        (2, "DUPLICATE_SKU", "SKU 'A1' also appears on row 4 with different values; neither row was applied"),
        (4, "DUPLICATE_SKU", "SKU 'A1' also appears on row 2 with different values; neither row was applied")]
    assert parsed.error_rows == 2


def test_agreeing_duplicate_skus_are_applied_once_with_a_warning_on_the_repeat():
    parsed = parse("SKU,Title,MF,EAST\nA1,Tote,5,\nA1,Tote again,5,\n")
    assert (parsed.skus, parsed.row_numbers, parsed.quantities) == (["A1"], [2], {"MF": [5], "EAST": [None]})
    assert [(i.row, i.code, i.severity) for i in parsed.issues] == [(3, "DUPLICATE_SKU_AGREES", "warning")]
    assert parsed.warning_count == 1 and parsed.error_rows == 0


def test_a_duplicate_of_a_failed_row_fails_too():
    parsed = parse("SKU,MF\nA1,x\nA1,5\n")
    assert parsed.skus == [] and parsed.failed_skus == {"A1"}
    assert [(i.row, i.code) for i in parsed.issues] == [
        (2, "NOT_AN_INTEGER"), (2, "DUPLICATE_SKU"), (3, "DUPLICATE_SKU")]


def test_a_third_conflicting_copy_names_the_first_row():
    parsed = parse("SKU,MF\nA1,5\nA1,5\nA1,7\n")
    assert parsed.skus == []
    assert [(i.row, i.code) for i in parsed.issues] == [
        (2, "DUPLICATE_SKU"), (3, "DUPLICATE_SKU_AGREES"), (4, "DUPLICATE_SKU")]


def test_a_header_without_rows_is_a_warning():
    parsed = parse("SKU,MF\n\n")
    assert (parsed.rejected, codes(parsed), parsed.total_rows) == (False, ["HEADER_ONLY"], 0)


def test_an_as_of_column_gives_the_file_its_time():
    parsed = parse("SKU,MF,as_of\nA1,5,2024-03-01T02:00:00Z\nA2,6,2024-03-01T02:00:00Z\n")
    assert parsed.as_of == datetime(2024, 3, 1, 2, tzinfo=timezone.utc)
    assert parsed.warehouse_columns == ["MF"]


def test_rows_that_disagree_on_as_of_reject_the_file():
    parsed = parse("SKU,MF,As Of\nA1,5,2024-03-01\nA2,6,2024-03-02\n")
    assert parsed.rejected and parsed.as_of is None
    assert [(i.code, i.row, i.value) for i in parsed.issues] == [("INVALID_AS_OF", 3, "2024-03-02")]


def test_an_as_of_that_is_not_a_time_rejects_the_file():
    parsed = parse("SKU,MF,as_of\nA1,5,yesterday\n")
    assert parsed.rejected and codes(parsed) == ["INVALID_AS_OF"]


def test_a_mode_other_than_absolute_is_refused_for_a_template():
    parsed = parse("SKU,MF\nA1,5\n", ParseOptions(mode="delta"))
    assert parsed.rejected and codes(parsed) == ["INVALID_MODE"]


def test_a_runaway_quoted_cell_is_reported_on_one_line_with_the_raw_value_kept():
    parsed = parse('SKU,MF\nA1,"5\nA2,3\n')
    assert [(i.code, i.value) for i in parsed.issues] == [("NOT_AN_INTEGER", "5\nA2,3\n"),
                                                          ("TRUNCATED_ROW", "A1,5\nA2,3\n")]
    assert parsed.issues[0].message == "quantity '5\\nA2,3\\n' is not a whole number"


def test_a_very_long_value_is_shortened_in_the_message_only():
    parsed = parse("SKU,MF\nA1," + "x" * 500 + "\n")
    assert len(parsed.issues[0].value) == 500
    assert len(parsed.issues[0].message) < 130 and "..." in parsed.issues[0].message
