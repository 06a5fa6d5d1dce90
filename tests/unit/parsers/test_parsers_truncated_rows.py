"""A CSV whose last row has no line end, while the rows before it have one, may have been cut off in
transfer: that row is an error (TRUNCATED_ROW), never applied. Blank last lines, one-line files and line
breaks inside quoted fields do not count."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers import ParseOptions, parse_file

STOCK_FULL = ParseOptions(kind="stock", mode="full")


def parse(text: str, options: ParseOptions = ParseOptions()):
    return parse_file(text.encode("utf-8"), "stock.csv", options)


def truncated(parsed):
    return [(i.row, i.column, i.value) for i in parsed.issues if i.code == "TRUNCATED_ROW"]


@pytest.mark.parametrize("text,row,value", [
    ("SKU,MF\nA1,5\nB1,12", 3, "B1,12"),
    ("SKU,MF\r\nA1,5\r\nB1,12", 3, "B1,12"),
    ("SKU,MF\rA1,5\rB1,12", 3, "B1,12"),
    ("SKU,MF\nB1,12", 2, "B1,12"),                         # the header's line end counts
    ("SKU,MF,Title\nA1,5,x\nB1,12,", 3, "B1,12"),           # cut right after a delimiter
    ('SKU,MF,Title\nA1,5,"two\nlines"\nB1,12,"cut', 3, "B1,12,cut"),
    ('SKU,MF,Title\nA1,5,x\nB1,12,"cut after a break\n', 3, "B1,12,cut after a break\n"),
    ('SKU,Title,MF\nA1,x,5\nB1,"a ""quoted"" title",12', 3, 'B1,a "quoted" title,12'),
])
def test_a_last_row_without_a_line_end_is_an_error_and_never_applied(text, row, value):
    parsed = parse(text)
    assert truncated(parsed) == [(row, "SKU", value)]
    assert "B1" not in parsed.skus and "B1" in parsed.failed_skus
    assert parsed.issues[-1].severity == "error" and parsed.error_rows == 1
    assert "cut off" in parsed.issues[-1].message and "rename" in parsed.issues[-1].message
    if row == 3:
        assert parsed.skus == ["A1"] and parsed.quantities == {"MF": [5]}


@pytest.mark.parametrize("text", [
    "SKU,MF\nA1,5\nB1,12\n",
    "SKU,MF\r\nA1,5\r\nB1,12\r\n",
    "SKU,MF\nA1,5\nB1,12\r",
    "SKU,MF\nA1,5\nB1,12\n   ",          # a blank last line is not a row
    "SKU,MF\nA1,5\nB1,12\n,",
    "SKU,MF\nA1,5\nB1,12\n\n\n",
    'SKU,MF,Title\nA1,5,x\nB1,12,"two\nlines"\n',   # the quoted line break is not the row's end
    'SKU,MF,Title\nA1,5,x\nB1,12,"ends with a break\n"\n',
])
def test_a_last_row_ending_in_a_line_break_is_applied(text):
    parsed = parse(text)
    assert truncated(parsed) == []
    assert parsed.skus == ["A1", "B1"] and parsed.quantities == {"MF": [5, 12]}


@pytest.mark.parametrize("text", ["SKU,MF", "SKU,MF\n", 'SKU,"M\nF"', "\n\nSKU,MF"])
def test_a_one_line_file_is_not_truncated(text):
    parsed = parse(text)
    assert [i.code for i in parsed.issues] == ["HEADER_ONLY"]


def test_a_truncated_row_that_repeats_an_earlier_sku_is_reported_with_it():
    parsed = parse("SKU,MF\nA1,5\nB1,3\nA1,12")
    assert parsed.skus == ["B1"]
    assert [(i.row, i.code) for i in parsed.issues] == [(2, "DUPLICATE_SKU"), (4, "DUPLICATE_SKU"),
                                                        (4, "TRUNCATED_ROW")]


def test_a_cut_as_of_cell_does_not_reject_the_file():
    parsed = parse("SKU,MF,as_of\nA1,5,2026-03-01T02:00:00Z\nB1,5,2026-03-0")
    assert not parsed.rejected and parsed.skus == ["A1"]
    assert parsed.as_of is not None and parsed.as_of.isoformat() == "2026-03-01T02:00:00+00:00"
    assert [i.code for i in parsed.issues] == ["TRUNCATED_ROW"]


def test_a_full_snapshot_never_treats_the_truncated_sku_as_absent():
    parsed = parse("SKU,Qty\nA1,5\nB1,1", STOCK_FULL)
    assert parsed.skus == ["A1"] and parsed.failed_skus == {"B1"}


def test_a_truncated_row_that_already_had_an_error_gets_both():
    parsed = parse("SKU,MF\nA1,5\nB1,1x")
    assert [(i.row, i.code) for i in parsed.issues] == [(3, "NOT_AN_INTEGER"), (3, "TRUNCATED_ROW")]


def test_an_xlsx_sheet_is_never_truncated(xlsx):
    parsed = parse_file(xlsx([["SKU", "MF"], ["A1", 5], ["B1", 12]]), "qu.xlsx")
    assert parsed.skus == ["A1", "B1"] and parsed.issues == []


skus = st.text(alphabet="ABCXYZ019-_ é\"", min_size=1, max_size=8).map(str.strip).filter(bool)


@given(rows=st.lists(st.tuples(skus, st.integers(0, 9999)), min_size=1, max_size=30, unique_by=lambda r: r[0]),
       line_end=st.sampled_from(["\n", "\r\n", "\r"]), quote_all=st.booleans())
def test_removing_the_final_line_end_flags_exactly_the_last_row(rows, line_end, quote_all):
    def cell(text: str) -> str:
        return '"' + text.replace('"', '""') + '"' if quote_all or '"' in text else text

    lines = ["SKU,MF"] + [f"{cell(sku)},{quantity}" for sku, quantity in rows]
    whole = parse(line_end.join(lines) + line_end)
    cut = parse(line_end.join(lines))
    assert truncated(whole) == []
    assert whole.skus == [sku for sku, _ in rows]
    assert [row for row, _, _ in truncated(cut)] == [len(rows) + 1]
    assert cut.skus == whole.skus[:-1] and cut.quantities["MF"] == whole.quantities["MF"][:-1]
