"""Every issue code StockGate reports, with its severity, message template and an example.

Regenerate the reference page with `python -m parsers.issues > docs/issue-codes.md`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
QUANTITY_LIMIT = 2_000_000_000
LISTED_ISSUES = 10_000   # a streamed file's report lists at most about this many issues; the rest are counted


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a file: a stable code, a sentence, and where it is."""

    code: str
    severity: str
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    sku: str | None = None   # the SKU of the issue's row (None for a file-level issue)

    def as_dict(self) -> dict[str, Any]:
        """The issue as the report JSON writes it (keys in the contract's order)."""
        return {
            "row": self.row,
            "sku": self.sku,
            "column": self.column,
            "value": self.value,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class IssueCode:
    """The registry entry of one code: how bad it is, what it says and what it means."""

    code: str
    severity: str
    template: str
    meaning: str
    example: dict[str, Any] = field(default_factory=dict)
    raised_by: str = "parser"  # "parser" | "pipeline"
    scope: str = "row"  # "row" | "file" | "sku" (a SKU the file did not name)


_ENTRIES = [
    # Row-level problems found by the parser.
    IssueCode("NOT_AN_INTEGER", "error", "quantity '{value}' is not a whole number",
              "A quantity cell holds something other than an integer (an optional `.0` fraction and "
              "surrounding spaces are fine). The row is not applied.",
              {"row": 7, "column": "EAST", "value": "1,234"}),
    IssueCode("NEGATIVE_QUANTITY", "error", "quantity '{value}' is negative; only delta files may subtract",
              "A negative quantity in a file that sets absolute levels.",
              {"row": 3, "column": "MF", "value": "-5"}),
    IssueCode("SIGNED_QUANTITY", "error",
              "quantity '{value}' has a '+' sign, but this file sets absolute levels; write the level "
              "without a sign, or send adjustments through a delta source",
              "A `+` in a file that sets absolute levels: the sender probably meant an adjustment.",
              {"row": 4, "column": "QtyOnHand", "value": "+5"}),
    IssueCode("QUANTITY_TOO_LARGE", "error", f"quantity '{{value}}' is above the limit of {QUANTITY_LIMIT:,}",
              "A quantity whose size is beyond any real stock level (usually a pasted barcode).",
              {"row": 9, "column": "WEST", "value": "5012345678900"}),
    IssueCode("EMPTY_QUANTITY", "error", "the quantity cell is empty; a stock file needs a quantity on every row",
              "A warehouse stock file row with a SKU but no quantity. (In a Quantity Update template an "
              "empty cell means 'leave as it is' and is not an issue.)",
              {"row": 5, "column": "QtyOnHand", "value": ""}),
    IssueCode("INVALID_SKU", "error", "SKU '{value}' is not valid: {reason}",
              "A SKU that is empty while the row has values, longer than 100 characters, or contains a "
              "control or invisible character.",
              {"row": 6, "column": "SKU", "value": "", "reason": "the row has values but no SKU"}),
    IssueCode("SKU_LOOKS_MANGLED", "error",
              "SKU '{value}' looks changed by a spreadsheet ({reason}): {known}; the row was not applied. "
              "Format the SKU column as text, correct the SKU and send the file again",
              "A SKU the catalog does not have that a spreadsheet probably made from a real one: a known SKU "
              "but for leading zeros lost (`00123` saved as `123`), digits past the 15th lost "
              "(`1234567890123456789` as `1234567890123450000`) or written in scientific notation "
              "(`1.23457E+18`); or a SKU in such a form (scientific notation, a date or fraction from an "
              "XLSX cell) that matches nothing. The message names the known SKU it probably was. The row "
              "is not applied, a `full` snapshot never zeroes that known SKU, and `create_unknown_skus` "
              "never creates the mangled one. An XLSX number cell of more than 15 significant digits is "
              "always this error (its real digits are gone). A SKU the catalog has as written is read as "
              "it is.",
              {"row": 8, "column": "SKU", "value": "123", "reason": "leading zeros lost",
               "known": "it is probably the known SKU '00123'"}, raised_by="pipeline"),
    IssueCode("DUPLICATE_SKU", "error",
              "SKU '{value}' also appears on row {other_row} with different values; neither row was applied",
              "The same SKU on two rows that disagree. Both rows are errors.",
              {"row": 12, "column": "SKU", "value": "A1", "other_row": 4}),
    IssueCode("DUPLICATE_SKU_AGREES", "warning",
              "SKU '{value}' repeats row {other_row} with the same values; {outcome}",
              "The same SKU on two rows of a file that sets absolute levels, with identical values: the later "
              "row is ignored. When the first row turns out to be an error (an unknown SKU), the message "
              "says that neither was applied.",
              {"row": 13, "column": "SKU", "value": "A2", "other_row": 5, "outcome": "only row 5 counts"}),
    IssueCode("DUPLICATE_SKU_SUMMED", "info",
              "SKU '{sku}' also appears on row {other_row}: in a delta file every row is a movement, so this "
              "row's {value} {outcome}",
              "A `delta` file naming a SKU on several rows: each row is a movement (two `A,+1` rows add 2), "
              "so they are added together into the first one; a row with an error is left out on its own.",
              {"row": 9, "column": "Qty", "value": "+1", "sku": "A1", "other_row": 4, "outcome": "was added to it"}),
    IssueCode("UNCACHED_FORMULA", "error",
              "the cell in column '{column}' is a formula with no saved result; open the file in a "
              "spreadsheet program, let it calculate and save it again",
              "An XLSX formula cell without a cached value (written by a program, never calculated).",
              {"row": 10, "column": "MF", "value": "=B10*2"}),
    IssueCode("CELL_ERROR", "error", "the cell in column '{column}' holds the spreadsheet error '{value}'",
              "An XLSX cell whose value is a spreadsheet error such as `#N/A` or `#REF!`.",
              {"row": 11, "column": "EAST", "value": "#N/A"}),
    IssueCode("TRUNCATED_ROW", "error",
              "the last row does not end with a line break (or a quote it opens is never closed) while "
              "the rows before it do, so the file may have been cut off in transfer; the row was not "
              "applied. End the last row with a line break too, or upload under a temporary name and "
              "rename the file once it is complete",
              "A CSV whose last row is not followed by a line break while the rows before it are (a line "
              "break inside a quoted field does not count): an upload cut off in transfer looks exactly "
              "like a complete file, so the row is never applied (a `1200` cut to `12` must not become a "
              "stock level). A file of one line, and a blank last line, are not affected; see "
              "docs/transports.md.",
              {"row": 1001, "column": "SKU", "value": "A1,12"}),
    IssueCode("MIXED_ENCODING", "error",
              "this row is written in UTF-8 but the rest of the file is not, so it was read as "
              "Windows-1252 ('{value}' is '{utf8}' in UTF-8); the row was not applied: save the whole file "
              "in one encoding, preferably UTF-8",
              "A CSV that is not valid UTF-8 as a whole is read as Windows-1252; a row whose accented "
              "characters are valid UTF-8 was written in another encoding than the rest and would be "
              "misread (`café` as `cafÃ©`), so it is never applied and never creates a SKU.",
              {"row": 7, "column": "SKU", "value": "MIX-cafÃ©", "utf8": "MIX-café"}),
    IssueCode("UNKNOWN_SKU", "error", "SKU '{value}' is not in the catalog",
              "A SKU StockGate does not know, from a source without `create_unknown_skus`.",
              {"row": 14, "column": "SKU", "value": "ZZ-999"}, raised_by="pipeline"),
    IssueCode("CLAMPED_AT_ZERO", "warning",
              "adjustment {value} would take SKU '{sku}' in {warehouse} from {on_hand} to {result}; set to 0",
              "A delta that would make a stock level negative; the level is set to 0 instead.",
              {"row": 3, "column": "Qty", "value": "-8", "sku": "A1", "warehouse": "EAST",
               "on_hand": 5, "result": -3}, raised_by="pipeline"),
    IssueCode("ZEROED_BY_SNAPSHOT", "info",
              "SKU '{sku}' in {warehouse} set from {on_hand:,} to 0: it is not in this full snapshot",
              "A `full` stock file sets every stocked SKU of its warehouse that it leaves out to 0; one such "
              "issue per SKU it zeroed, so the report shows exactly what the snapshot did (a SKU whose row "
              "failed is never zeroed). Not raised for a `held` file, which changes nothing.",
              {"sku": "B-200", "warehouse": "EAST", "on_hand": 12}, raised_by="pipeline", scope="sku"),
    IssueCode("ORDER_ADJUSTMENT", "warning",
              "quantity {value} for SKU '{sku}' lowered to {adjusted}: {units} units were ordered after "
              "the file's as_of",
              "Orders placed after the time the file describes are subtracted from its absolute "
              "quantities, so an old snapshot cannot resurrect sold units.",
              {"row": 2, "column": "MF", "value": "10", "sku": "A1", "adjusted": 8, "units": 2},
              raised_by="pipeline"),
    # File-level problems found by the parser.
    IssueCode("EMPTY_FILE", "error", "the file is empty", "No header and no rows (zero bytes or only blank lines).",
              scope="file"),
    IssueCode("HEADER_ONLY", "warning", "the file has a header but no data rows",
              "Nothing to apply. The pipeline rejects such a file in `full` mode.", scope="file"),
    IssueCode("UNREADABLE_FILE", "error", "the file cannot be read: {reason}",
              "Random bytes, a corrupt zip, a `.xlsx` that is not a workbook, text in no supported encoding.",
              {"reason": "it is named .xlsx but is not a zip archive (renamed file?)"}, scope="file"),
    IssueCode("UNSUPPORTED_FILE_TYPE", "error", "{what} is not supported; save it as .xlsx or .csv",
              "A known format StockGate does not read: Excel 97-2003 `.xls`, encrypted workbooks, "
              "`.xlsb`, OpenDocument, HTML or PDF.",
              {"what": "an Excel 97-2003 (.xls) or password-protected workbook"}, scope="file"),
    IssueCode("FILE_TOO_LARGE", "error", "the file is {size:,} bytes, over the limit of {limit:,} bytes",
              "The file is bigger than the configured maximum.",
              {"size": 250_000_000, "limit": 104_857_600}, scope="file"),
    IssueCode("ZIP_BOMB", "error", "the workbook was refused as a possible zip bomb: {reason}",
              "An XLSX whose declared uncompressed size, compression ratio or member count is over the "
              "limit (refused before anything is unpacked), or one of whose parts unpacks to more than "
              "it declares (refused as soon as it does, in bounded steps).",
              {"reason": "it would unpack to 5,368,709,120 bytes (limit 1,073,741,824)"}, scope="file"),
    IssueCode("SHEET_TOO_LARGE", "error",
              "sheet '{sheet}' is too large to read: {reason}; split the file or raise files.max_sheet_mb",
              "An XLSX sheet whose XML or shared strings declare more than `files.max_sheet_mb`, whose "
              "cells span a larger grid than a sheet of that size could fill, or whose cells repeat more "
              "shared text than that; refused before calamine reads its cells, so one file cannot "
              "exhaust the service's memory (docs/files.md).",
              {"sheet": "Stock", "reason": "its XML would unpack to 419,430,400 bytes, over the limit of "
                                           "335,544,320 (max_sheet_mb = 320)"}, scope="file"),
    IssueCode("TOO_MANY_COLUMNS", "error",
              "{what} has {count:,} columns, more than the limit of {limit:,}; delete the unused columns "
              "or raise files.max_columns",
              "A header (CSV) or sheet (XLSX) with more columns than `files.max_columns` (default 1,000); "
              "refused before any row is read.",
              {"what": "the header", "count": 200_000, "limit": 1_000}, scope="file"),
    IssueCode("XML_FORBIDDEN", "error",
              "the workbook part '{part}' declares a DTD or entities, which are refused (XML bomb protection)",
              "An XLSX whose XML carries `<!DOCTYPE` or `<!ENTITY` (billion laughs, external entities).",
              {"part": "xl/sharedStrings.xml"}, scope="file"),
    IssueCode("ENCODING_FALLBACK", "warning",
              "the file is not UTF-8 (first bad byte on line {line}, byte offset {offset}); it was read "
              "as Windows-1252, check accented characters",
              "A CSV that is not valid UTF-8 was decoded as Windows-1252.", {"line": 14, "offset": 1042}, scope="file"),
    IssueCode("ISSUES_NOT_LISTED", "info",
              "{count:,} more issues are not listed (a report lists the first {limit:,}): {by_code}",
              "A file (read in chunks) with more issues than a report lists (`LISTED_ISSUES`, 10,000): the "
              "first found are listed in row order, the rest are counted here by code. The row counts "
              "(`errors`, `warnings`) include every issue; each unlisted one had its effect all the same (its "
              "row was not applied).",
              {"count": 990_000, "limit": 10_000, "by_code": "NOT_AN_INTEGER 989,998, DUPLICATE_SKU 2"},
              scope="file"),
    IssueCode("HIDDEN_SHEET_SKIPPED", "warning", "sheet '{value}' is hidden and was skipped; read sheet '{used}'",
              "The first sheet of the workbook is hidden, so the first visible one was read.",
              {"value": "Lookup", "used": "Stock"}, scope="file"),
    IssueCode("SHEET_NOT_FOUND", "error", "the workbook has no sheet '{value}'; its sheets are {sheets}",
              "The configured sheet name does not exist, or the workbook has no visible worksheet.",
              {"value": "Stock", "sheets": "'Sheet1', 'Sheet2'"}, scope="file"),
    IssueCode("MISSING_COLUMN", "error", "no {role} column: looked for {looked_for}; the header is {header}",
              "A required column (SKU, quantity) is not in the header. Also raised when the delimiter "
              "could not be recognised, so a file is never read as one silent column.",
              {"role": "SKU", "looked_for": "'SKU', 'Item', 'Item Number'", "header": "'Code;Stock'"},
              scope="file"),
    IssueCode("AMBIGUOUS_COLUMN", "error",
              "columns {columns} all match the {role} column; keep one or set an explicit column mapping",
              "Two headers map to the same role (two SKU columns, two quantity columns, a warehouse twice).",
              {"role": "quantity", "columns": "'On Hand', 'Available'"}, scope="file"),
    IssueCode("UNNAMED_COLUMN", "error", "column {position} has values but no header; name it or delete it",
              "A column without a header holds values: it may be a warehouse whose update would be lost.",
              {"position": "E", "row": 1}, scope="file"),
    IssueCode("INVALID_AS_OF", "error", "as_of '{value}' {reason}",
              "The `as_of` column holds a value that is not an ISO-8601 time, or rows disagree.",
              {"row": 9, "column": "as_of", "value": "yesterday", "reason": "is not an ISO-8601 date or time"},
              scope="file"),
    # File-level outcomes decided by the pipeline.
    IssueCode("UNKNOWN_WAREHOUSE", "error", "column '{column}' names no known warehouse (known: {known})",
              "A Quantity Update column that is neither the SKU, an informational column nor a warehouse "
              "code. The whole file is rejected, so a typo never silently drops an update.",
              {"row": 1, "column": "EASTT", "known": "MF, EAST, WEST"}, raised_by="pipeline", scope="file"),
    IssueCode("STOCK_FILE_NEEDS_WAREHOUSE", "error",
              "the file looks like the stock file of one warehouse (column '{column}' holds the quantities), "
              "but {sender} writes {warehouses}, so a file from it is read as a Quantity Update with one column "
              "per warehouse: {how}",
              "A file with a quantity column (`Qty`, `QtyOnHand`...) and no warehouse column, from a sender "
              "that writes several warehouses (an FTP login of more than one, or `ingest` without "
              "`--warehouse`): it cannot tell which warehouse the quantities are for, so it is rejected, "
              "with how to send it.",
              {"column": "Qty", "sender": "login 'erp'", "warehouses": "EAST, WEST",
               "how": "name the quantity column after its warehouse (header SKU,EAST), or send the file "
                      "through the login bound to its warehouse (EAST: 'east'; WEST: 'west')"},
              raised_by="pipeline", scope="file"),
    IssueCode("WAREHOUSE_NOT_ALLOWED", "error", "this login may not change warehouse '{column}'",
              "The file changes a warehouse its account or source is not allowed to write.",
              {"row": 1, "column": "WEST"}, raised_by="pipeline", scope="file"),
    IssueCode("STALE_FILE", "error",
              "the file describes {as_of}, older than {newest_as_of} already applied for warehouse {warehouse}",
              "A snapshot (`partial`, `full`, a Quantity Update) older than the newest snapshot already applied "
              "for its warehouse; nothing applied. `delta` files are movements: never stale, and they never make "
              "a snapshot stale.",
              {"as_of": "2024-03-01T02:00:00+00:00", "newest_as_of": "2024-03-02T02:00:00+00:00",
               "warehouse": "WEST"}, raised_by="pipeline", scope="file"),
    IssueCode("FUTURE_AS_OF", "error",
              "the file describes {as_of} (from {source}), later than its receipt at {received_at} by more "
              "than the allowed {skew}; nothing applied: correct that time (or the sender's clock) and send "
              "the file again",
              "The moment a file describes (an `as_of` column, a timestamp in its name, `--as-of`) is later than "
              "its receipt by more than `[files] future_as_of_skew_seconds` (default 600): figures from the "
              "future are a wrong clock or a wrong name, and applying them would make every later file of the "
              "warehouse `STALE_FILE`.",
              {"as_of": "2099-12-31T23:59:59+00:00", "source": "the timestamp in its name",
               "received_at": "2026-11-26T08:30:12+00:00", "skew": "10 minutes"},
              raised_by="pipeline", scope="file"),
    IssueCode("DUPLICATE_FILE", "warning",
              "same content as file {original_id} received {received_at}; nothing applied",
              "The same bytes from the same warehouse again (replaying a snapshot would undo later orders).",
              {"original_id": "f_0192", "received_at": "2024-03-01T02:00:05+00:00"},
              raised_by="pipeline", scope="file"),
    IssueCode("SNAPSHOT_GUARD", "error",
              "this full snapshot would zero {zeroed} of {stocked} stocked SKUs, more than {allowed:.0%}; "
              "held until `stockgate release {file_id}`",
              "A `full` file that would zero too many SKUs is held: nothing applied until released.",
              {"zeroed": 812, "stocked": 1000, "allowed": 0.5, "file_id": "f_0193"},
              raised_by="pipeline", scope="file"),
    IssueCode("TOO_FEW_ROWS", "error",
              "this full snapshot has {rows} rows, fewer than min_rows = {min_rows}; held until "
              "`stockgate release {file_id}`",
              "A `full` file with fewer rows than the source's `min_rows` is held.",
              {"rows": 0, "min_rows": 1, "file_id": "f_0194"}, raised_by="pipeline", scope="file"),
    IssueCode("REJECTED_ON_REQUEST", "error", "rejected by {actor} while held{because}; nothing applied",
              "An operator rejected a file the snapshot guard held (`stockgate reject FILE_ID [--reason TEXT]` or "
              "the Reject button of its report page): it ends `rejected` and none of its rows is applied; the "
              "issue says who rejected it and why.",
              {"actor": "admin", "because": ": yesterday's export, sent again by mistake"},
              raised_by="pipeline", scope="file"),
    IssueCode("INVALID_MODE", "error", "mode '{value}' is not valid for a {kind} file (use {allowed})",
              "The configured mode does not fit the kind of file.",
              {"value": "delta", "kind": "quantity_update", "allowed": "absolute"}, scope="file"),
]

CODES: dict[str, IssueCode] = {entry.code: entry for entry in _ENTRIES}


def make_issue(code: str, *, row: int | None = None, column: str | None = None,
               value: Any = None, sku: str | None = None, **fmt: Any) -> Issue:
    """Build an issue of a registered code; the message comes from the code's template. `sku` is the SKU
    of the issue's row (every row-level issue names it)."""
    entry = CODES[code]
    text = None if value is None else str(value)
    try:
        message = entry.template.format(value=shown(text), column=column, sku=shown(sku), **fmt)
    except KeyError as missing:
        raise ValueError(f"issue {code} needs the field {missing} for its message") from None
    return Issue(code, entry.severity, message, row, column, text, sku)


def shown(text: str | None, limit: int = 80) -> str | None:
    """A cell value fit for a one-line message: control characters escaped, long values shortened."""
    if text is None:
        return None
    if not text.isprintable():
        text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _example_message(entry: IssueCode) -> str:
    fields = dict(entry.example)
    return make_issue(entry.code, row=fields.pop("row", None), column=fields.pop("column", None),
                      value=fields.pop("value", None), **fields).message


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_issue_codes_markdown() -> str:
    """The text of docs/issue-codes.md, generated from CODES."""
    lines = [
        "# Issue codes",
        "",
        "Every issue a StockGate report can carry. Row-level issues point at one row (the row number a",
        "spreadsheet shows, header = row 1); file-level issues concern the whole file, and a file-level",
        "error rejects it. Generated from `parsers/issues.py`; do not edit by hand. Regenerate with:",
        "",
        "    python -m parsers.issues > docs/issue-codes.md",
        "",
        "| code | severity | scope | raised by | meaning | example message |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for entry in _ENTRIES:
        lines.append(f"| `{entry.code}` | {entry.severity} | {entry.scope} | {entry.raised_by} | "
                     f"{_cell(entry.meaning)} | {_cell(_example_message(entry))} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_issue_codes_markdown(), end="")
