"""Long files: rows are read in chunks and plain chunks are taken whole, with the same result as row by row."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import ParseOptions, parse_file
from parsers.plain_rows import CHUNK_ROWS, PlainChunks

ROWS = 3 * CHUNK_ROWS + 10


def long_file(changes: dict[int, list[str]], rows: int = ROWS, header: str = "SKU,Title,MF,EAST") -> bytes:
    """`rows` plain rows (S1, S2, ...), with the data rows numbered in `changes` replaced by its cells."""
    lines = [header.split(",")]
    lines += [changes.get(n, [f"S{n}", f"Item {n}", str(n % 90), str(n % 7)]) for n in range(1, rows + 1)]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lines)
    return buffer.getvalue().encode()


@pytest.mark.parametrize("n", [1, CHUNK_ROWS - 1, CHUNK_ROWS, CHUNK_ROWS + 1, 2 * CHUNK_ROWS, ROWS])
@pytest.mark.parametrize("cells,code", [
    (["S{n}", "x", "abc", "1"], "NOT_AN_INTEGER"),
    (["S{n}", "x", "1", "-3"], "NEGATIVE_QUANTITY"),
    (["S{n}", "x", "1234567890123", "1"], "QUANTITY_TOO_LARGE"),
    (["", "x", "1", "1"], "INVALID_SKU"),
    (["S2", "x", "9", "9"], "DUPLICATE_SKU"),
])
def test_a_bad_row_anywhere_in_a_long_file_is_reported_and_every_other_row_kept(n, cells, code):
    parsed = parse_file(long_file({n: [cell.format(n=n) for cell in cells]}), "qu.csv")
    assert code in [i.code for i in parsed.issues if i.row == n + 1]
    dropped = {n, 2} if code == "DUPLICATE_SKU" and n != 2 else {n}
    assert parsed.skus == [f"S{k}" for k in range(1, ROWS + 1) if k not in dropped]
    assert parsed.quantities["MF"] == [k % 90 for k in range(1, ROWS + 1) if k not in dropped]
    assert parsed.row_numbers == [k + 1 for k in range(1, ROWS + 1) if k not in dropped]
    assert parsed.total_rows == ROWS


@pytest.mark.parametrize("cell,value", [(" 7 ", 7), ("12.0", 12), ("", None), ("0007", 7)])
def test_a_quantity_written_loosely_in_a_long_file_reads_as_in_a_short_one(cell, value):
    parsed = parse_file(long_file({CHUNK_ROWS + 3: [f"S{CHUNK_ROWS + 3}", "x", cell, "1"]}), "qu.csv")
    assert not parsed.issues
    assert parsed.quantities["MF"][CHUNK_ROWS + 2] == value


@pytest.mark.parametrize("n", [1, CHUNK_ROWS + 1, ROWS])
def test_a_sku_in_scientific_notation_deep_inside_a_long_file_is_kept_as_a_suspect(n):
    parsed = parse_file(long_file({n: ["1.2E+11", "x", "5", "1"]}), "qu.csv")
    assert parsed.issues == [] and parsed.suspect_skus == {"1.2E+11": "scientific notation"}
    assert "1.2E+11" in parsed.skus
    assert parsed.skus[n - 1] == "1.2E+11" and parsed.valid_rows == ROWS


def test_a_stock_file_with_an_empty_quantity_deep_inside_reports_that_row():
    data = long_file({2 * CHUNK_ROWS + 5: [f"S{2 * CHUNK_ROWS + 5}", "x", "", "1"]}, header="SKU,Title,Qty,Other")
    parsed = parse_file(data, "s.csv", ParseOptions(kind="stock", mode="partial"))
    assert [(i.row, i.code) for i in parsed.issues] == [(2 * CHUNK_ROWS + 6, "EMPTY_QUANTITY")]
    assert parsed.valid_rows == ROWS - 1


CELLS = st.sampled_from(["1", "42", "", " 7 ", "12.0", "12.5", "abc", "-3", "+5", "1234567890", "０"])
SKUS = st.sampled_from(["S1", "S2", " S3 ", "", "1.2E+11", "A\u200bB", "X" * 101])


@settings(max_examples=80, deadline=None)
@given(skus=st.dictionaries(st.integers(1, ROWS), SKUS, max_size=6),
       cells=st.dictionaries(st.integers(1, ROWS), st.tuples(CELLS, CELLS), max_size=6),
       blank=st.sets(st.integers(1, ROWS), max_size=3), kind=st.sampled_from(["quantity_update", "delta"]))
def test_long_files_read_exactly_as_when_every_row_is_checked_one_by_one(skus, cells, blank, kind):
    rows = {n: [skus.get(n, f"S{n}"), "x", *cells.get(n, (str(n % 90), "1"))] for n in skus.keys() | cells.keys()}
    rows |= {n: ["", "", "", ""] for n in blank}
    header, options = ("SKU,Title,MF,EAST", ParseOptions()) if kind == "quantity_update" else (
        "SKU,Title,Qty,Other", ParseOptions(kind="stock", mode="delta"))
    data = long_file(rows, header=header)
    fast = parse_file(data, "f.csv", options)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PlainChunks, "take", lambda self, chunk: False)
        one_by_one = parse_file(data, "f.csv", options)
    assert fast == one_by_one
