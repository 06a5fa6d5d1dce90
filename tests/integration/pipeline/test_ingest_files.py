"""Workbook features and hostile files through `stockgate ingest`: formulas, numeric SKUs, hidden sheets,
empty and random files, zip and XML bombs (each rejected cleanly, nothing applied)."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from pipeline_helpers import codes, ingest, seed, stock


def _rewrite(path: str, part: str, change) -> None:
    """Rewrite one part of an XLSX in place with change(bytes) -> bytes."""
    with zipfile.ZipFile(path) as source:
        members = {info.filename: source.read(info.filename) for info in source.infolist()}
    members[part] = change(members[part])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in members.items():
            target.writestr(name, data)


def test_a_formula_with_a_cached_value_gives_that_value(sg, files):
    seed(sg, "A1 MF 1")
    path = files.xlsx("f.xlsx", [["SKU", "MF"], ["A1", "=2*3"]])
    _rewrite(path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b"<v />", b"<v>6</v>"))
    code, report = ingest(sg, path)
    assert code == 0, report
    assert stock(sg)["A1"] == {"MF": 6}


def test_a_formula_without_a_cached_value_is_an_error_on_its_row(sg, files):
    seed(sg, "A1 MF 1", "A2 MF 1")
    code, report = ingest(sg, files.xlsx("f.xlsx", [["SKU", "MF"], ["A1", "=2*3"], ["A2", 4]]))
    assert code == 3
    assert [(i["row"], i["code"]) for i in report["issues"]] == [(2, "UNCACHED_FORMULA")]
    assert stock(sg)["A1"] == {"MF": 1} and stock(sg)["A2"] == {"MF": 4}


def test_a_sku_stored_as_a_number_reads_back_without_a_fraction(sg, files):
    seed(sg, "123 MF 1")
    code, report = ingest(sg, files.xlsx("n.xlsx", [["SKU", "MF"], [123, 5]]))
    assert code == 0, report
    assert stock(sg)["123"] == {"MF": 5}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_sku_in_scientific_notation_is_flagged_as_damaged_by_a_spreadsheet(sg, files, kind):
    seed(sg, "123456789012 MF 1")
    path = (files.csv("s.csv", "SKU,MF\n1.23E+11,4\n") if kind == "csv"
            else files.xlsx("s.xlsx", [["SKU", "MF"], ["1.23E+11", 4]]))
    _code, report = ingest(sg, path, "--create-unknown-skus")
    assert codes(report) == ["SKU_LOOKS_MANGLED"] and "known SKU '123456789012'" in report["issues"][0]["message"]
    assert "1.23E+11" not in stock(sg)


def test_a_hidden_first_sheet_is_skipped_with_a_warning(sg, files):
    seed(sg, "A1 MF 1")
    path = files.xlsx("h.xlsx", [["SKU", "MF"], ["A1", 9]], hidden_first=[["SKU", "MF"], ["A1", 100]])
    code, report = ingest(sg, path)
    assert code == 0
    assert codes(report) == ["HIDDEN_SHEET_SKIPPED"]
    assert stock(sg)["A1"] == {"MF": 9}


@pytest.mark.parametrize("name", ["empty.csv", "empty.xlsx"])
def test_an_empty_file_is_rejected_as_empty(sg, files, name):
    path = files.raw(name, b"") if name.endswith(".csv") else files.xlsx(name, [])
    code, report = ingest(sg, path)
    assert (code, report["status"], codes(report)) == (4, "rejected", ["EMPTY_FILE"])


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_header_only_quantity_update_changes_nothing_and_says_so(sg, files, kind):
    path = files.csv("h.csv", "SKU,MF\n") if kind == "csv" else files.xlsx("h.xlsx", [["SKU", "MF"]])
    code, report = ingest(sg, path)
    assert (code, codes(report), report["rows"]["total"]) == (0, ["HEADER_ONLY"], 0)


@pytest.mark.parametrize("name", ["noise.csv", "noise.xlsx"])
def test_random_bytes_are_rejected_as_unreadable(sg, files, name):
    code, report = ingest(sg, files.raw(name, b"\x00\x9f" + os.urandom(4000)))
    assert (code, report["status"], codes(report)) == (4, "rejected", ["UNREADABLE_FILE"])


def test_a_zip_bomb_is_refused_before_it_is_unpacked(sg, files):
    seed(sg, "A1 MF 1")
    path = files.xlsx("bomb.xlsx", [["SKU", "MF"], ["A1", 5]])
    _rewrite(path, "xl/worksheets/sheet1.xml", lambda xml: xml + b" " * (60 * 1024 * 1024))
    code, report = ingest(sg, path)
    assert (code, codes(report)) == (4, ["ZIP_BOMB"])
    assert stock(sg)["A1"] == {"MF": 1}


def test_an_xml_entity_bomb_is_refused(sg, files):
    seed(sg, "A1 MF 1")
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + b"".join(b'<!ENTITY lol%d "%s">' % (n, b"&lol%d;" % (n - 1) * 10 if n > 1 else b"&lol;" * 10)
                         for n in range(1, 10)) + b"]>")
    path = files.xlsx("laughs.xlsx", [["SKU", "MF"], ["A1", 5]])
    _rewrite(path, "xl/worksheets/sheet1.xml", lambda xml: laughs + xml.split(b"?>", 1)[-1])
    code, report = ingest(sg, path)
    assert (code, codes(report)) == (4, ["XML_FORBIDDEN"])
    assert stock(sg)["A1"] == {"MF": 1}


def test_an_old_binary_excel_file_is_refused_with_advice(sg, files):
    code, report = ingest(sg, files.raw("old.xls", bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 512))
    assert (code, codes(report)) == (4, ["UNSUPPORTED_FILE_TYPE"])
    assert ".xlsx or .csv" in report["issues"][0]["message"]


def test_a_corrupt_zip_named_xlsx_is_unreadable(sg, files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    code, report = ingest(sg, files.raw("x.xlsx", buffer.getvalue()[:-30]))
    assert (code, codes(report)) == (4, ["UNREADABLE_FILE"])
