"""The sample files read the way sample_files/README.md says, and the script regenerates them."""

import csv
import importlib.util
from pathlib import Path

from parsers import ParseOptions, parse_file

SAMPLES = Path(__file__).resolve().parents[3] / "sample_files"


def parse_sample(name: str, options: ParseOptions = ParseOptions()):
    return parse_file((SAMPLES / name).read_bytes(), name, options)


def test_the_quantity_update_csv_and_xlsx_give_the_same_quantities_and_keep_leading_zeros():
    from_csv = parse_sample("quantity_update.csv")
    from_xlsx = parse_sample("quantity_update.xlsx")
    expected = {"MF": [12, 0, 25, 3], "EAST": [4, None, 25, 0], "WEST": [None, 7, 25, None]}
    for parsed in (from_csv, from_xlsx):
        assert parsed.skus == ["A1", "A2", "B-100", "00123"]
        assert parsed.quantities == expected
        assert parsed.issues == []
    assert (from_csv.format, from_xlsx.format, from_xlsx.sheet) == ("csv", "xlsx", "Quantity Update")


def test_the_erp_export_is_found_by_alias_and_read_as_windows_1252():
    parsed = parse_sample("erp_stock_export.csv", ParseOptions(kind="stock", mode="full"))
    assert (parsed.encoding, parsed.delimiter) == ("cp1252", ";")
    assert parsed.header == ["Item Number", "Description", "QtyOnHand"]
    assert parsed.quantities == {"quantity": [40, 125, 0]}
    assert [issue.code for issue in parsed.issues] == ["ENCODING_FALLBACK"]


def test_every_issue_csv_raises_each_parser_row_code_its_description_names():
    parsed = parse_sample("every_issue.csv", ParseOptions(kind="stock", mode="partial"))
    with (SAMPLES / "every_issue.csv").open(encoding="utf-8", newline="") as sample:
        rows = list(csv.reader(sample))
    named = {number: row[1].split(":")[0] for number, row in enumerate(rows, 1) if ":" in row[1]}
    raised = {}
    for issue in parsed.issues:
        raised.setdefault(issue.row, set()).add(issue.code)
    for row, code in named.items():
        if code not in ("UNKNOWN_SKU", "SKU_LOOKS_MANGLED"):  # the pipeline's, as the catalog lives there
            assert code in raised.get(row, set()), (row, code)
    assert parsed.skus == ["A1", "1.23E+11", "C-2", "ZZ-NOT-IN-CATALOG"]
    assert parsed.suspect_skus == {"1.23E+11": "scientific notation"}   # the pipeline refuses it unless known


def test_make_samples_writes_the_committed_csv_files_byte_for_byte(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", tmp_path)
    module.main()
    for name in ("quantity_update.csv", "erp_stock_export.csv", "every_issue.csv"):
        assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes(), name
    regenerated = parse_file((tmp_path / "quantity_update.xlsx").read_bytes(), "quantity_update.xlsx")
    assert regenerated.skus == parse_sample("quantity_update.xlsx").skus
