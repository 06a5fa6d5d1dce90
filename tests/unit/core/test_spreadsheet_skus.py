"""The known SKUs a spreadsheet-changed SKU probably came from (gateway.core.skus)."""

from __future__ import annotations

import pytest

from gateway.core.skus import DigitSkus, spreadsheet_originals

KNOWN = DigitSkus(["00123", "0123", "1234567890123456789", "123456789012", "0042", "99", "5012345678900"])


@pytest.mark.parametrize(("sku", "reason", "found"), [
    ("123", "leading zeros lost", ["00123", "0123"]),
    ("42", "leading zeros lost", ["0042"]),
    ("1234567890123450000", "digits past the 15th lost", ["1234567890123456789"]),   # cut (Excel)
    ("1234567890123460000", "digits past the 15th lost", ["1234567890123456789"]),   # rounded
    ("1.23457E+18", "scientific notation", ["1234567890123456789"]),
    ("1,23457E+18", "scientific notation", ["1234567890123456789"]),
    ("1.23E+11", "scientific notation", ["123456789012"]),
    ("123000000000", "rounded", ["123456789012"]),
])
def test_a_spreadsheet_form_names_the_known_skus_it_probably_was(sku, reason, found):
    assert spreadsheet_originals(sku, KNOWN) == (reason, found)


@pytest.mark.parametrize("sku", ["99", "77", "A123", "123456789013", "1.24E+11", "9.9E+18", "0123x", "5012345678900"])
def test_other_skus_match_nothing(sku):
    assert spreadsheet_originals(sku, KNOWN) == ("", [])
