"""A file with more columns than `max_columns` (default 1,000) is refused at once (TOO_MANY_COLUMNS); below
the limit, every column check is linear, so 200,000 columns parse when the limit is raised."""

import pytest

from parsers import ParseOptions, Table, parse_file
from parsers.quantity_update import parse_quantity_update

WIDE = 200_000


def quantity_update(columns: int, names=lambda i: f"W{i}") -> bytes:
    header = ",".join(["SKU", *(names(i) for i in range(columns))])
    row = ",".join(["A1", *(str(i % 10) for i in range(columns))])
    return f"{header}\r\n{row}\r\n".encode()


def test_a_header_of_more_than_max_columns_is_refused_naming_the_count_and_the_limit():
    parsed = parse_file(quantity_update(1_000), "wide.csv")
    assert parsed.rejected and [i.code for i in parsed.issues] == ["TOO_MANY_COLUMNS"]
    assert parsed.issues[0].message == ("the header has 1,001 columns, more than the limit of 1,000; delete the "
                                        "unused columns or raise files.max_columns")


def test_a_header_of_exactly_max_columns_is_read():
    parsed = parse_file(quantity_update(999), "wide.csv")
    assert not parsed.rejected and len(parsed.warehouse_columns) == 999


def test_the_limit_is_the_one_configured():
    assert parse_file(quantity_update(10), "qu.csv", ParseOptions(max_columns=10)).issues[0].code == "TOO_MANY_COLUMNS"
    assert parse_file(quantity_update(9), "qu.csv", ParseOptions(max_columns=10)).valid_rows == 1


def test_a_stock_file_is_held_to_the_limit_too():
    header = ",".join(["SKU", "Qty", *(f"note{i}" for i in range(1_000))])
    parsed = parse_file(f"{header}\nA1,5\n".encode(), "stock.csv", ParseOptions(kind="stock", mode="partial"))
    assert [i.code for i in parsed.issues] == ["TOO_MANY_COLUMNS"]


def test_200000_columns_are_refused_by_default():
    data = quantity_update(WIDE)
    assert 1_000_000 < len(data) < 2_500_000
    parsed = parse_file(data, "wide.csv")
    assert [i.code for i in parsed.issues] == ["TOO_MANY_COLUMNS"]
    assert "200,001 columns" in parsed.issues[0].message


def test_200000_columns_parse_when_the_limit_is_raised():
    parsed = parse_file(quantity_update(WIDE), "wide.csv", ParseOptions(max_columns=WIDE + 1))
    assert not parsed.rejected and parsed.issues == []
    assert len(parsed.warehouse_columns) == WIDE and parsed.skus == ["A1"]
    assert parsed.quantities["W0"] == [0] and parsed.quantities[f"W{WIDE - 1}"] == [(WIDE - 1) % 10]


def test_a_warehouse_named_twice_among_200000_columns_is_found():
    names = lambda i: "W7" if i == WIDE - 1 else f"W{i}"  # noqa: E731
    parsed = parse_file(quantity_update(WIDE, names), "wide.csv", ParseOptions(max_columns=WIDE + 1))
    assert parsed.rejected and [i.code for i in parsed.issues] == ["AMBIGUOUS_COLUMN"]
    assert "'W7'" in parsed.issues[0].message


class Counted(str):
    """A header cell that counts the comparisons made with it (a quadratic check makes n² of them)."""

    comparisons = 0
    __hash__ = str.__hash__

    def __eq__(self, other):
        Counted.comparisons += 1
        return str.__eq__(self, other)


def test_column_checks_compare_each_header_cell_a_bounded_number_of_times():
    columns = 3_000
    header = [Counted(name) for name in ["SKU", "Title", *(f"W{i}" for i in range(columns))]]
    table = Table("csv", header, 1, iter([(2, ["A1", "x", *("1" for _ in range(columns))])]))
    Counted.comparisons = 0
    parsed = parse_quantity_update(table, ParseOptions(max_columns=10_000))
    assert len(parsed.warehouse_columns) == columns and parsed.valid_rows == 1
    assert Counted.comparisons < 10 * columns


@pytest.mark.parametrize("columns,refused", [(1_000, False), (1_001, True)])
def test_an_xlsx_sheet_wider_than_the_limit_is_refused_naming_the_sheet(xlsx, columns, refused):
    header = ["SKU", *(f"W{i}" for i in range(columns - 1))]
    parsed = parse_file(xlsx([header, ["A1", *range(columns - 1)]], title="Stock"), "wide.xlsx")
    if refused:
        assert [i.code for i in parsed.issues] == ["TOO_MANY_COLUMNS"]
        assert parsed.issues[0].message.startswith("sheet 'Stock' has 1,001 columns, more than the limit of 1,000")
    else:
        assert not parsed.rejected and len(parsed.warehouse_columns) == columns - 1
