"""The Quantity Update template: a SKU column, informational columns, one column per warehouse.

A cell holding an integer sets that warehouse's level; an empty cell leaves it as it is. Which
headers are real warehouses is the pipeline's call (UNKNOWN_WAREHOUSE); the parser lists them.
"""

from __future__ import annotations

from collections import Counter

from parsers.columns import find_column, normalise_header, quoted_list, title_column
from parsers.issues import make_issue
from parsers.model import ParsedFile, ParseOptions
from parsers.rows import RowLayout, collect_rows
from parsers.tables import Table


def new_parsed_file(table: Table, kind: str) -> ParsedFile:
    """An empty result carrying what the table reader learned about the file."""
    return ParsedFile(kind=kind, format=table.format, encoding=table.encoding, delimiter=table.delimiter,
                      sheet=table.sheet, header=list(table.header), issues=list(table.issues))


def parse_quantity_update(table: Table, options: ParseOptions) -> ParsedFile:
    """Validate a Quantity Update table into one quantity list per warehouse column."""
    parsed = new_parsed_file(table, "quantity_update")
    layout = quantity_update_layout(table, options, parsed)
    if layout is not None:
        collect_rows(table, layout, parsed, options.progress)
        finish_parse(parsed)
    return parsed


def finish_parse(parsed: ParsedFile) -> None:
    """After the rows: a file with a header and no rows says so (HEADER_ONLY)."""
    if parsed.total_rows == 0 and not parsed.rejected:
        parsed.issues.append(make_issue("HEADER_ONLY"))


def quantity_update_layout(table: Table, options: ParseOptions, parsed: ParsedFile) -> RowLayout | None:
    """The columns of a Quantity Update (its warehouse columns set in `parsed`), or None when its header
    rejects it (the issue is in `parsed`)."""
    header = table.header
    sku_index, problem = find_column(header, "sku", options)
    as_of_index, as_of_problem = find_column(header, "as_of", options, required=False)
    if problem or as_of_problem:
        parsed.reject(problem or as_of_problem)
        return None
    informational = {normalise_header(name) for name in options.informational_columns}
    title_index = title_column(header, options)
    warehouses: list[int] = []
    unnamed: list[int] = []
    for index, name in enumerate(header):
        if index in (sku_index, as_of_index, title_index):
            continue
        if not name:
            unnamed.append(index)
        elif normalise_header(name) not in informational:
            warehouses.append(index)
    names = [header[index] for index in warehouses]
    counts = Counter(names)   # one pass: a list.count per name made 200,000 columns take minutes
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        parsed.reject(make_issue("AMBIGUOUS_COLUMN", role=f"warehouse '{repeated[0]}'",
                                 columns=quoted_list([repeated[0]] * counts[repeated[0]])))
        return None
    if not warehouses:
        parsed.reject(make_issue(
            "MISSING_COLUMN", role="warehouse",
            looked_for="a column named after a warehouse code besides the SKU and informational columns",
            header=quoted_list(header)))
        return None
    parsed.warehouse_columns = names
    parsed.quantities = {name: [] for name in names}
    return RowLayout(sku=sku_index, quantities=list(zip(warehouses, names)), as_of=as_of_index,
                     unnamed=unnamed, check_extra_cells=True, title=title_index)
