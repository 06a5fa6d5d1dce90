"""Warehouse stock files: columns by alias or mapping, and the partial/full/delta modes."""

import pytest

from parsers import ParseOptions, parse_file

PARTIAL = ParseOptions(kind="stock", mode="partial")
DELTA = ParseOptions(kind="stock", mode="delta")


def parse(text: str, options: ParseOptions = PARTIAL):
    return parse_file(text.encode(), "stock.csv", options)


def codes(parsed):
    return [issue.code for issue in parsed.issues]


@pytest.mark.parametrize("quantity_header", ["QtyOnHand", "qty on hand", "Qty-On-Hand", "QTY_ON_HAND", "Stock"])
def test_quantity_headers_match_ignoring_case_spaces_and_punctuation(quantity_header):
    parsed = parse(f"Item Number,Description,{quantity_header}\nB-100,Mug,7\n")
    assert (parsed.skus, parsed.quantities, parsed.warehouse_columns) == (["B-100"], {"quantity": [7]}, [])


def test_an_explicit_column_mapping_wins_over_the_aliases():
    options = ParseOptions(kind="stock", mode="full", columns={"sku": "Code", "quantity": "Free"})
    parsed = parse("Code,On Hand,Free\nA1,9,4\n", options)
    assert parsed.quantities == {"quantity": [4]}


def test_a_mapped_column_that_is_missing_is_named_as_configured():
    options = ParseOptions(kind="stock", mode="full", columns={"sku": "Code", "quantity": "Free"})
    parsed = parse("Code,Qty\nA1,4\n", options)
    assert parsed.rejected
    assert parsed.issues[0].message == "no quantity column: looked for 'Free' (configured); the header is 'Code', 'Qty'"


def test_two_quantity_columns_are_ambiguous_until_one_is_mapped():
    parsed = parse("SKU,On Hand,Available\nA1,9,4\n")
    assert parsed.rejected and codes(parsed) == ["AMBIGUOUS_COLUMN"]
    mapped = parse("SKU,On Hand,Available\nA1,9,4\n", ParseOptions(kind="stock", columns={"quantity": "Available"}))
    assert mapped.quantities == {"quantity": [4]}


def test_a_stock_file_row_without_a_quantity_is_an_error_and_never_zeroed():
    parsed = parse("SKU,Qty\nA1,\nA2,3\n", ParseOptions(kind="stock", mode="full"))
    assert [(i.row, i.code) for i in parsed.issues] == [(2, "EMPTY_QUANTITY")]
    assert (parsed.skus, parsed.failed_skus) == (["A2"], {"A1"})


def test_a_negative_level_is_an_error_in_partial_and_full_mode():
    for mode in ("partial", "full"):
        parsed = parse("SKU,Qty\nA1,-3\n", ParseOptions(kind="stock", mode=mode))
        assert codes(parsed) == ["NEGATIVE_QUANTITY"]


def test_delta_mode_reads_signed_adjustments():
    parsed = parse("SKU,Qty\nA1,+5\nA2,-3\nA3,5\n", DELTA)
    assert parsed.quantities == {"quantity": [5, -3, 5]}
    assert parsed.issues == []


def test_other_columns_of_an_erp_export_are_ignored_even_without_headers():
    parsed = parse("SKU,Qty,,Notes\nA1,3,x,whatever,extra\n")
    assert (parsed.rejected, parsed.skus) == (False, ["A1"])


def test_a_stock_file_missing_both_columns_names_both():
    parsed = parse("Code,Count\nA1,3\n")
    assert [(i.code, "SKU" in i.message or "quantity" in i.message) for i in parsed.issues] == [
        ("MISSING_COLUMN", True), ("MISSING_COLUMN", True)]


def test_a_partial_mode_for_a_template_kind_is_refused_and_unknown_kinds_are_a_programming_error():
    assert codes(parse("SKU,MF\nA1,1\n", ParseOptions(mode="partial"))) == ["INVALID_MODE"]
    with pytest.raises(ValueError, match="unknown file kind"):
        parse("SKU,MF\nA1,1\n", ParseOptions(kind="orders"))
