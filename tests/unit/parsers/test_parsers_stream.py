"""stream_file: the rules of parse_file, the rows handed over in bounded chunks as they are read, repeated SKUs
left to the reader of the chunks, and no more issues listed than a report lists."""

from __future__ import annotations

from parsers import ParseOptions, parse_file, stream_file
from parsers.issues import LISTED_ISSUES


def _rows(text: str, **options):
    parsed, chunks = stream_file(text.encode(), "update.csv", ParseOptions(**options), chunk_rows=1_000)
    return parsed, list(chunks)


def test_the_chunks_hold_the_rows_parse_file_keeps_in_the_same_order_and_no_chunk_grows_with_the_file():
    lines = ["SKU,Title,MF,EAST"] + [f"S{i:05d},Item {i},{i % 9},{'' if i % 5 else i}" for i in range(10_000)]
    lines[500] = "S00499,Item,x,1"   # row 501: NOT_AN_INTEGER
    text = "\n".join(lines) + "\n"
    whole = parse_file(text.encode(), "update.csv")
    parsed, chunks = _rows(text)

    assert [len(chunk.skus) <= 1_000 + 256 for chunk in chunks] == [True] * len(chunks) and len(chunks) >= 8
    assert [sku for chunk in chunks for sku in chunk.skus] == whole.skus
    assert [row for chunk in chunks for row in chunk.row_numbers] == whole.row_numbers
    for key in ("MF", "EAST"):
        assert [value for chunk in chunks for value in chunk.quantities[key]] == whole.quantities[key]
    titles = {sku: title for chunk in chunks for sku, title in zip(chunk.skus, chunk.titles) if title}
    assert titles == whole.titles
    assert [(row, sku) for chunk in chunks for row, sku, _ in chunk.failed] == [(501, "S00499")]
    assert parsed.issues == whole.issues and parsed.total_rows == whole.total_rows == 10_000
    assert (parsed.skus, parsed.titles, parsed.streamed) == ([], {}, True)


def test_repeated_skus_are_all_handed_over_for_the_reader_to_judge():
    parsed, chunks = _rows("SKU,MF\nA1,1\nA2,2\nA1,1\nA1,x\n")
    assert [(chunk.row_numbers, chunk.skus) for chunk in chunks] == [([2, 3, 4], ["A1", "A2", "A1"])]
    assert chunks[0].failed == [(5, "A1", True)]   # its SKU takes part in the repeat check
    assert [issue.code for issue in parsed.issues] == ["NOT_AN_INTEGER"]


def test_a_file_with_more_bad_rows_than_a_report_lists_counts_the_rest_by_code():
    bad = LISTED_ISSUES + 50
    text = "SKU,MF\n" + "".join(f"B{i},x\n" for i in range(bad)) + "OK1,5\n"
    parsed, chunks = _rows(text)

    assert len(parsed.issues) == LISTED_ISSUES and parsed.issues[-1].row == LISTED_ISSUES + 1
    assert parsed.unlisted == {"NOT_AN_INTEGER": 50}
    assert (parsed.error_rows, parsed.error_count) == (bad, bad)
    assert [sku for chunk in chunks for sku in chunk.skus] == ["OK1"]


def test_a_delta_file_streams_every_movement_with_its_cell_as_written_for_the_reader_to_add_up():
    parsed, chunks = _rows("SKU,Qty\nA1,+1\nB1,7\nA1,007\nA1,-3\nB1,x\n", kind="stock", mode="delta")
    assert [(c.row_numbers, c.skus, c.quantities["quantity"], c.texts) for c in chunks] == [
        ([2, 3, 4, 5], ["A1", "B1", "A1", "A1"], [1, 7, 7, -3], ["+1", None, "007", None])]
    assert [(i.row, i.code) for i in parsed.issues] == [(6, "NOT_AN_INTEGER")]   # repeats: the reader's
