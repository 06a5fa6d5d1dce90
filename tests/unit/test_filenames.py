"""Derived file names fit the file system: shortened by bytes at a character boundary, extension and id kept."""

from __future__ import annotations

import pytest

from gateway.filenames import NAME_MAX, fit_name, name_bytes, shorten
from gateway.pipeline.report import report_basename
from gateway.transports.sources.pickup import name_beside

FILE_ID = "20261126T083012-3fa9c1d0"


def test_shortening_never_cuts_a_character_in_half():
    assert shorten("仓仓仓", 8) == "仓仓"
    assert shorten("aé仓", 3) == "aé"
    assert shorten("short", 100) == "short"


@pytest.mark.parametrize("name", ["仓" * 80 + ".csv", "仓" * 84, "é" * 127 + ".xlsx", "a" * 250 + ".csv",
                                  "x." + "仓" * 90])
def test_a_report_name_fits_with_its_file_id_extension_and_temporary_name(name):
    base = report_basename(name, FILE_ID)
    for final in (f"{base}.json", f"{base}.csv"):
        assert name_bytes(f".{final}.tmp") <= NAME_MAX
        assert final.endswith(f".{FILE_ID}.report.json") or final.endswith(f".{FILE_ID}.report.csv")
    stem = base[:-len(f".{FILE_ID}.report")]
    assert name.startswith(stem.removesuffix(".csv").removesuffix(".xlsx"))
    if name.endswith((".csv", ".xlsx")):
        assert stem.endswith(name[name.rindex("."):])


def test_a_short_name_is_left_as_it_is():
    assert report_basename("stock.csv", FILE_ID) == f"stock.csv.{FILE_ID}.report"
    assert name_beside("stock.csv", FILE_ID) == f"stock.{FILE_ID}.csv"
    assert name_beside("README", FILE_ID) == f"README.{FILE_ID}"


def test_a_name_beside_a_taken_one_fits_and_keeps_id_and_extension():
    name = "仓" * 84 + ".csv"
    beside = name_beside(name, FILE_ID)
    assert name_bytes(beside) <= NAME_MAX and beside.endswith(f".{FILE_ID}.csv") and beside.startswith("仓")


def test_the_kept_parts_are_never_shortened():
    fitted = fit_name("仓" * 100 + ".csv", before="20261126T083012-abcdef-east-", after="", limit=NAME_MAX)
    assert fitted.startswith("20261126T083012-abcdef-east-仓") and fitted.endswith(".csv")
    assert NAME_MAX - 2 <= name_bytes(fitted) <= NAME_MAX
