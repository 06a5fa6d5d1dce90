"""Cell rules: which quantities and SKUs are accepted, and what a rejected one is called."""

from datetime import datetime, timezone

import pytest

from parsers.cells import parse_as_of, parse_quantity, sku_problem, sku_text_looks_mangled


@pytest.mark.parametrize(("text", "expected"), [
    ("5", 5), ("0", 0), ("007", 7), (" 5 ", 5), ("5.0", 5), ("12.00", 12), ("\t42\t", 42),
    ("2000000000", 2_000_000_000), ("-0", 0),
])
def test_absolute_quantities_that_are_whole_numbers_are_accepted(text, expected):
    assert parse_quantity(text, signed=False) == (expected, None)


@pytest.mark.parametrize(("text", "code"), [
    ("12.5", "NOT_AN_INTEGER"), ("abc", "NOT_AN_INTEGER"), ("1,234", "NOT_AN_INTEGER"),
    ("1e3", "NOT_AN_INTEGER"), ("5,0", "NOT_AN_INTEGER"), ("12.", "NOT_AN_INTEGER"), (".5", "NOT_AN_INTEGER"),
    ("1 234", "NOT_AN_INTEGER"), ("=A1*2", "NOT_AN_INTEGER"), ("١٢", "NOT_AN_INTEGER"), ("²", "NOT_AN_INTEGER"),
    ("NaN", "NOT_AN_INTEGER"), ("1_000", "NOT_AN_INTEGER"), ("5.5.0", "NOT_AN_INTEGER"),
    ("-5", "NEGATIVE_QUANTITY"), ("-5.0", "NEGATIVE_QUANTITY"),
    ("+5", "SIGNED_QUANTITY"),
    ("2000000001", "QUANTITY_TOO_LARGE"), ("5012345678900", "QUANTITY_TOO_LARGE"), ("9" * 5000, "QUANTITY_TOO_LARGE"),
])
def test_absolute_quantities_that_are_not_whole_non_negative_numbers_are_named(text, code):
    assert parse_quantity(text, signed=False) == (None, code)


@pytest.mark.parametrize(("text", "expected"), [("+5", 5), ("-3", -3), ("5", 5), (" -3.0 ", -3), ("+0", 0)])
def test_delta_quantities_may_carry_a_sign(text, expected):
    assert parse_quantity(text, signed=True) == (expected, None)


def test_a_delta_larger_than_the_limit_is_refused_in_either_direction():
    assert parse_quantity("-2000000001", signed=True) == (None, "QUANTITY_TOO_LARGE")


@pytest.mark.parametrize("text", ["", "   ", "\t"])
def test_an_empty_quantity_cell_is_neither_a_value_nor_an_error(text):
    assert parse_quantity(text, signed=False) == (None, None)


@pytest.mark.parametrize("sku", ["A1", "00123", "b-100", "NA", "null", "TRUE", "1-Mar", "SEPT2", "x" * 100,
                                 "Größe 42", "A 1", "A\u00a01"])
def test_ordinary_skus_are_valid(sku):
    assert sku_problem(sku) is None


@pytest.mark.parametrize(("sku", "fragment"), [
    ("", "no SKU"), ("x" * 101, "101 characters"), ("A\t1", "U+0009"), ("A\x001", "U+0000"),
    ("A\u200b1", "U+200B"), ("A\u20281", "U+2028"),
])
def test_invalid_skus_say_what_is_wrong(sku, fragment):
    assert fragment in sku_problem(sku)


@pytest.mark.parametrize("sku", ["1.23E+11", "4.5e+15", "12E+3", "1,23E+11"])
def test_skus_in_scientific_notation_look_mangled(sku):
    assert sku_text_looks_mangled(sku) == "scientific notation"


@pytest.mark.parametrize("sku", ["E+1", "A+B", "1.23E-11x", "PLUS+", "123456789012345678"])
def test_skus_that_merely_contain_a_plus_do_not_look_mangled(sku):
    assert sku_text_looks_mangled(sku) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-03-01T02:00:00+01:00", datetime(2024, 3, 1, 1, 0, tzinfo=timezone.utc)),
    ("2024-03-01T02:00:00Z", datetime(2024, 3, 1, 2, 0, tzinfo=timezone.utc)),
    ("2024-03-01 02:00", datetime(2024, 3, 1, 2, 0, tzinfo=timezone.utc)),
    ("2024-03-01", datetime(2024, 3, 1, tzinfo=timezone.utc)),
])
def test_as_of_reads_iso_times_and_takes_a_missing_offset_as_utc(text, expected):
    assert parse_as_of(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "01/03/2024", "", "2024-13-01"])
def test_as_of_that_is_not_iso_8601_is_refused(text):
    assert parse_as_of(text) is None
