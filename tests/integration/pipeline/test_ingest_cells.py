"""Cell rules through `stockgate ingest`: encodings, delimiters, line ends, quantities, duplicates."""

from __future__ import annotations

import pytest
from pipeline_helpers import codes, ingest, seed, stock


@pytest.fixture
def catalog(sg):
    seed(sg, "A1 MF 1", "A2 MF 1", "00123 MF 1")
    return sg


@pytest.mark.parametrize("encoding,prefix", [("utf-8", b""), ("utf-8-sig", b""), ("utf-16", b""),
                                             ("cp1252", b"")])
def test_every_supported_encoding_applies_the_same_quantities(catalog, files, encoding, prefix):
    path = files.csv("qu.csv", "SKU,Title,MF,EAST\r\nA1,Café crème,5,2\r\n00123,Lid,7,\r\n", encoding)
    code, report = ingest(catalog, path)
    assert code == 0, report
    assert stock(catalog)["A1"] == {"MF": 5, "EAST": 2}
    assert stock(catalog)["00123"] == {"MF": 7}
    assert ("ENCODING_FALLBACK" in codes(report)) == (encoding == "cp1252")


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_recognised(catalog, files, delimiter):
    text = delimiter.join(["SKU", "MF", "WEST"]) + "\n" + delimiter.join(["A1", "4", "9"]) + "\n"
    code, report = ingest(catalog, files.csv("qu.csv", text))
    assert code == 0, report
    assert stock(catalog)["A1"] == {"MF": 4, "WEST": 9}


def test_crlf_line_ends_and_blank_rows_are_read_and_rows_keep_spreadsheet_numbers(catalog, files):
    path = files.csv("qu.csv", "SKU,MF\r\n\r\nA1,3\r\n,\r\nA2,abc\r\n")
    code, report = ingest(catalog, path)
    assert code == 3
    assert report["rows"]["total"] == 2
    assert [(i["row"], i["code"], i["value"]) for i in report["issues"]] == [(5, "NOT_AN_INTEGER", "abc")]
    assert stock(catalog)["A1"] == {"MF": 3}


@pytest.mark.parametrize("cell,expected", [("12.0", 12), (" 7 ", 7), ("0", 0)])
def test_integer_quantities_with_a_zero_fraction_or_spaces_are_accepted(catalog, files, cell, expected):
    code, _report = ingest(catalog, files.csv("qu.csv", f'SKU,MF\nA1,"{cell}"\n'))
    assert code == 0
    assert stock(catalog)["A1"]["MF"] == expected


@pytest.mark.parametrize("cell,issue", [("12.5", "NOT_AN_INTEGER"), ("abc", "NOT_AN_INTEGER"),
                                        ("1,234", "NOT_AN_INTEGER"), ("-3", "NEGATIVE_QUANTITY")])
def test_a_bad_quantity_is_an_error_naming_the_value_and_leaves_the_level(catalog, files, cell, issue):
    code, report = ingest(catalog, files.csv("qu.csv", f'SKU,MF\nA1,"{cell}"\nA2,8\n'))
    assert code == 3
    assert [(i["row"], i["column"], i["value"], i["code"]) for i in report["issues"]] == [(2, "MF", cell, issue)]
    assert cell in report["issues"][0]["message"]
    assert stock(catalog)["A1"]["MF"] == 1 and stock(catalog)["A2"]["MF"] == 8


def test_the_same_sku_twice_with_the_same_values_is_applied_once_with_a_warning(catalog, files):
    code, report = ingest(catalog, files.csv("qu.csv", "SKU,MF\nA1,6\nA1,6\n"))
    assert code == 0
    assert codes(report) == ["DUPLICATE_SKU_AGREES"]
    assert stock(catalog)["A1"]["MF"] == 6


def test_the_same_sku_twice_with_different_values_fails_both_rows(catalog, files):
    code, report = ingest(catalog, files.csv("qu.csv", "SKU,MF\nA1,6\nA1,9\nA2,4\n"))
    assert code == 3
    assert sorted((i["row"], i["code"]) for i in report["issues"]) == [(2, "DUPLICATE_SKU"), (3, "DUPLICATE_SKU")]
    assert stock(catalog)["A1"]["MF"] == 1 and stock(catalog)["A2"]["MF"] == 4


def test_an_empty_quantity_update_cell_leaves_the_level_as_it_is(catalog, files):
    seed(catalog, "A1 EAST 4")
    code, _ = ingest(catalog, files.csv("qu.csv", "SKU,MF,EAST\nA1,9,\n"))
    assert code == 0
    assert stock(catalog)["A1"] == {"MF": 9, "EAST": 4}


def test_an_xlsx_quantity_update_is_applied_like_its_csv(catalog, files):
    path = files.xlsx("qu.xlsx", [["SKU", "Title", "MF", "EAST"], ["A1", "Tote", 5, 2], ["00123", "Lid", 7, None]])
    code, report = ingest(catalog, path)
    assert code == 0, report
    assert stock(catalog)["A1"] == {"MF": 5, "EAST": 2} and stock(catalog)["00123"] == {"MF": 7}


@pytest.mark.parametrize("value,issue", [(12.5, "NOT_AN_INTEGER"), ("abc", "NOT_AN_INTEGER"),
                                         (-3, "NEGATIVE_QUANTITY"), (12.0, None)])
def test_xlsx_quantity_cells_follow_the_same_rules(catalog, files, value, issue):
    code, report = ingest(catalog, files.xlsx("qu.xlsx", [["SKU", "MF"], ["A1", value]]))
    assert codes(report) == ([issue] if issue else [])
    assert stock(catalog)["A1"]["MF"] == (12 if issue is None else 1)
    assert code == (0 if issue is None else 4)
