"""Property tests: whatever SKU or quantity is written, it reads back the same; no input crashes."""

import csv
import io

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from parsers import ParseOptions, parse_file
from parsers.cells import sku_problem
from parsers.formula_cells import read_back

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252"]
DELIMITERS = [",", ";", "\t", "|"]


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


# A SKU written as `'` before text a spreadsheet would run is StockGate's own neutralised form of that text
# (docs/reports.md), read back without its marks; every other valid SKU must read back exactly.
skus = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=100).map(str.strip).filter(
    lambda sku: sku and sku_problem(sku) is None and read_back(sku) == sku)


def write_csv(rows, encoding: str, delimiter: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


@settings(max_examples=300, suppress_health_check=[HealthCheck.filter_too_much])
@given(sku_list=st.lists(skus, min_size=1, max_size=5, unique=True), encoding=st.sampled_from(ENCODINGS),
       delimiter=st.sampled_from(DELIMITERS))
def test_any_valid_text_sku_written_to_csv_reads_back_identical(sku_list, encoding, delimiter):
    assume(all(_encodable(sku, encoding) for sku in sku_list))
    # A Windows-1252 file is recognised by bytes that are not UTF-8: the title carries one.
    rows = [["SKU", "Title", "MF"]] + [[sku, "Café", "1"] for sku in sku_list]
    parsed = parse_file(write_csv(rows, encoding, delimiter), "stock.csv")
    assert parsed.skus == sku_list
    assert parsed.delimiter == delimiter
    assert not parsed.rejected


@given(quantity=st.integers(min_value=0, max_value=2_000_000_000), spaces=st.sampled_from(["", " ", "  "]),
       fraction=st.sampled_from(["", ".0", ".00"]))
def test_any_whole_quantity_round_trips_in_absolute_mode(quantity, spaces, fraction):
    data = f"SKU,MF\r\nA1,{spaces}{quantity}{fraction}{spaces}\r\n".encode()
    assert parse_file(data, "qu.csv").quantities == {"MF": [quantity]}


@given(delta=st.integers(min_value=-2_000_000_000, max_value=2_000_000_000), plus=st.booleans())
def test_any_signed_adjustment_round_trips_in_delta_mode(delta, plus):
    written = f"+{delta}" if plus and delta >= 0 else str(delta)
    parsed = parse_file(f"SKU,Qty\nA1,{written}\n".encode(), "d.csv", ParseOptions(kind="stock", mode="delta"))
    assert parsed.quantities == {"quantity": [delta]}


@given(cell=st.text(max_size=12))
def test_a_quantity_cell_is_either_a_whole_number_an_empty_cell_or_an_error_naming_it(cell):
    assume(not any(char in cell for char in '\n\r\x00",'))  # NUL makes the whole file binary
    parsed = parse_file(f"SKU,MF\nA1,{cell}\n".encode(), "qu.csv")
    if parsed.skus:
        value = parsed.quantities["MF"][0]
        assert value is None or str(value) == cell.strip().lstrip("0").split(".")[0] or value == 0
    else:
        assert [i.value for i in parsed.issues if i.severity == "error"] == [cell]


@settings(max_examples=200)
@given(data=st.binary(max_size=400), name=st.sampled_from(["x.csv", "x.xlsx", "x.xls", "x"]))
def test_no_bytes_make_the_parser_raise(data, name):
    parsed = parse_file(data, name)
    assert parsed.rejected or parsed.total_rows >= 0


@settings(max_examples=50)
@given(data=st.binary(min_size=1, max_size=300))
def test_bytes_after_a_zip_signature_never_make_the_parser_raise(data):
    parsed = parse_file(b"PK\x03\x04" + data, "x.xlsx")
    assert parsed.rejected
