"""A warehouse stock file: one SKU column and one quantity column found by alias or mapping.

Modes: `partial` and `full` carry absolute levels (>= 0); `delta` carries signed adjustments.
"""

from __future__ import annotations

from parsers.columns import find_column, title_column
from parsers.model import ParsedFile, ParseOptions
from parsers.quantity_update import finish_parse, new_parsed_file
from parsers.rows import RowLayout, collect_rows
from parsers.tables import Table


def parse_stock_file(table: Table, options: ParseOptions) -> ParsedFile:
    """Validate a stock file table into skus and a single "quantity" list."""
    parsed = new_parsed_file(table, "stock")
    layout = stock_file_layout(table, options, parsed)
    if layout is not None:
        collect_rows(table, layout, parsed, options.progress)
        finish_parse(parsed)
    return parsed


def stock_file_layout(table: Table, options: ParseOptions, parsed: ParsedFile) -> RowLayout | None:
    """The columns of a stock file, or None when its header rejects it (the issues are in `parsed`)."""
    parsed.quantities = {"quantity": []}
    header = table.header
    sku_index, sku_problem = find_column(header, "sku", options)
    quantity_index, quantity_problem = find_column(header, "quantity", options)
    as_of_index, as_of_problem = find_column(header, "as_of", options, required=False)
    problems = [p for p in (sku_problem, quantity_problem, as_of_problem) if p]
    if problems:
        for problem in problems:
            parsed.reject(problem)
        return None
    title_index = title_column(header, options)
    if title_index in (sku_index, quantity_index, as_of_index):
        title_index = None   # a header `Item` is the SKU; never read one column as two
    return RowLayout(sku=sku_index, quantities=[(quantity_index, "quantity")], as_of=as_of_index,
                     empty_is_error=True, signed=options.mode == "delta", title=title_index)
