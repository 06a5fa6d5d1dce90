"""A SKU a spreadsheet changed (leading zeros dropped, digits past the 15th lost, scientific notation) is
an error naming the known SKU it probably was: never applied, never created, and a full snapshot never
zeroes that known SKU."""

from __future__ import annotations

import pytest
from pipeline_helpers import codes, ingest, seed, stock

LONG = "1234567890123456789"


def _mangled(report) -> list[tuple[int, str, str]]:
    return [(i["row"], i["sku"], i["message"]) for i in report["issues"] if i["code"] == "SKU_LOOKS_MANGLED"]


def test_a_full_snapshot_with_leading_zeros_lost_names_the_known_sku_and_never_zeroes_it(sg, files):
    seed(sg, "00123 EAST 7", "A1 EAST 2", "B2 EAST 4")
    code, report = ingest(sg, files.csv("full.csv", "SKU,Qty\n123,5\nA1,3\nB2,4\n"), "--warehouse", "EAST",
                          "--mode", "full")
    assert (code, report["status"]) == (3, "applied_with_errors"), report
    [(row, sku, message)] = _mangled(report)
    assert (row, sku) == (2, "123") and "leading zeros lost" in message and "known SKU '00123'" in message
    assert "UNKNOWN_SKU" not in codes(report) and "ZEROED_BY_SNAPSHOT" not in codes(report)
    assert report["issues"][0]["severity"] == "error" and report["rows"]["errors"] == 1
    assert stock(sg)["00123"] == {"EAST": 7} and stock(sg)["A1"] == {"EAST": 3}
    assert "123" not in stock(sg)


def test_create_unknown_skus_never_creates_the_mangled_sku(sg, files):
    seed(sg, "00123 EAST 7", f"{LONG} EAST 1")
    text = f"SKU,Qty\n123,5\nNEW-1,4\n1.23457E+18,9\n1234567890123450000,9\n9.87654E+20,2\n"
    code, report = ingest(sg, files.csv("p.csv", text), "--warehouse", "EAST", "--create-unknown-skus")
    assert code == 3, report
    mangled = _mangled(report)
    assert [(row, sku) for row, sku, _ in mangled] == [(2, "123"), (4, "1.23457E+18"),
                                                        (5, "1234567890123450000"), (6, "9.87654E+20")]
    assert f"known SKU '{LONG}'" in mangled[1][2] and "scientific notation" in mangled[1][2]
    assert f"known SKU '{LONG}'" in mangled[2][2] and "digits past the 15th lost" in mangled[2][2]
    assert "no SKU in the catalog matches it" in mangled[3][2]
    levels = stock(sg)
    assert set(levels) == {"00123", LONG, "NEW-1"} and levels["NEW-1"] == {"EAST": 4}
    assert levels["00123"] == {"EAST": 7} and levels[LONG] == {"EAST": 1}


@pytest.mark.parametrize("known", [True, False])
def test_an_xlsx_number_cell_of_more_than_15_digits_is_flagged_not_read_as_another_sku(sg, files, known):
    if known:
        seed(sg, f"{LONG} EAST 6")
    path = files.xlsx("n.xlsx", [["SKU", "Qty"], [int(LONG), 5], ["A1", 2]])   # a number cell, as Excel keeps it
    code, report = ingest(sg, path, "--warehouse", "EAST", "--mode", "full", "--create-unknown-skus")
    assert code == 3, report
    [(row, sku, message)] = _mangled(report)
    assert (row, sku) == (2, "1234567890123460000")   # the 15 digits a spreadsheet shows
    assert (f"known SKU '{LONG}'" in message) is known
    levels = stock(sg)
    assert sku not in levels and levels["A1"] == {"EAST": 2}
    if known:
        assert levels[LONG] == {"EAST": 6}   # the full snapshot did not zero it


def test_a_sku_the_catalog_has_as_written_is_read_as_it_is(sg, files):
    seed(sg, "1.23E+11 EAST 1", "123 EAST 1", "00123 EAST 1")
    code, report = ingest(sg, files.csv("p.csv", "SKU,Qty\n1.23E+11,4\n123,5\n"), "--warehouse", "EAST")
    assert (code, report["issues"]) == (0, []), report
    assert stock(sg)["1.23E+11"] == {"EAST": 4} and stock(sg)["123"] == {"EAST": 5}
