"""What a parse is asked to do (ParseOptions) and what it gives back (ParsedFile)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from parsers.issues import CODES, Issue

DEFAULT_SKU_ALIASES = ("SKU", "Item", "Item Number", "Part Number", "Product Code")
DEFAULT_QUANTITY_ALIASES = ("Quantity", "Qty", "QtyOnHand", "On Hand", "Available", "Stock")
DEFAULT_INFORMATIONAL = ("Title", "Name", "Description", "Size", "UPC", "ASIN")
# An item's title, by the first of these a header has (informational in a Quantity Update).
DEFAULT_TITLE_ALIASES = ("Title", "Name", "Product Name", "Product Title", "Item Name", "Item Title")
KINDS = ("quantity_update", "stock")
# The parser only tells delta (signed) from the rest; for a stock file "absolute" (the default) reads
# exactly like partial and full, which differ only in what the pipeline does with absent SKUs.
MODES = {"quantity_update": ("absolute",), "stock": ("partial", "full", "delta", "absolute")}


@dataclass(frozen=True)
class ParseOptions:
    """How to read one file: its kind and mode, column names to look for, and safety limits."""

    kind: str = "quantity_update"
    mode: str = "absolute"
    columns: Mapping[str, str] | None = None
    sku_aliases: tuple[str, ...] = DEFAULT_SKU_ALIASES
    quantity_aliases: tuple[str, ...] = DEFAULT_QUANTITY_ALIASES
    informational_columns: tuple[str, ...] = DEFAULT_INFORMATIONAL
    title_aliases: tuple[str, ...] = DEFAULT_TITLE_ALIASES
    sheet: str | None = None
    max_bytes: int = 100 * 1024 * 1024
    max_uncompressed_bytes: int = 1024 * 1024 * 1024
    max_compression_ratio: float = 200.0
    max_columns: int = 1_000
    max_sheet_bytes: int = 320 * 1024 * 1024  # XLSX: one sheet's XML (and its shared strings); see xlsx_parts
    # told (rows read, rows in the file when known) as the rows are read, for a progress bar
    progress: Callable[[int, int | None], None] | None = field(default=None, compare=False, repr=False)


@dataclass
class ParsedFile:
    """The valid rows of a file in columns, plus every issue found.

    `quantities` has one list per warehouse column (Quantity Update) or the single key "quantity"
    (stock file), aligned with `skus` and `row_numbers`. A row with any error is absent from them and
    its SKU is in `failed_skus`. A kept SKU in a form a spreadsheet makes (scientific notation, a date from
    a date cell) is in `suspect_skus` with the reason: only the catalog can tell whether it is real. `titles`
    holds the non-empty title cells of those rows by SKU (a file with a title column), as written
    (StockGate's own `'` marks read back). `rejected` is True when a file-level error makes the file
    unusable; the columns are then empty.
    """

    kind: str
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header: list[str] = field(default_factory=list)
    total_rows: int = 0
    row_numbers: list[int] = field(default_factory=list)
    skus: list[str] = field(default_factory=list)
    quantities: dict[str, list[int | None]] = field(default_factory=dict)
    warehouse_columns: list[str] = field(default_factory=list)
    failed_skus: set[str] = field(default_factory=set)
    suspect_skus: dict[str, str] = field(default_factory=dict)   # kept SKUs a spreadsheet may have converted:
    #                                                               why (the pipeline refuses them unless known)
    as_of: datetime | None = None
    titles: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    rejected: bool = False
    row_titles: list[str | None] = field(default_factory=list, repr=False)   # while reading: aligned with skus
    unlisted: dict[str, int] = field(default_factory=dict)   # streamed: issues past LISTED_ISSUES, by code
    unlisted_error_rows: int = 0   # streamed: rows with an error none of whose issues is listed
    streamed: bool = False   # the rows were handed over in RowChunks (`parsers.stream_file`): the columns stay
    #                          empty, and repeated SKUs are the reader of the chunks' to find

    @property
    def valid_rows(self) -> int:
        """Number of rows that passed every check."""
        return len(self.skus)

    @property
    def error_rows(self) -> int:
        """Number of distinct rows that carry at least one error (unlisted ones included)."""
        return len({i.row for i in self.issues if i.severity == "error" and i.row is not None
                    and CODES[i.code].scope == "row"}) + self.unlisted_error_rows

    @property
    def error_count(self) -> int:
        """Number of error issues, file-level ones included."""
        return sum(1 for i in self.issues if i.severity == "error") + self._unlisted("error")

    @property
    def warning_count(self) -> int:
        """Number of warning issues."""
        return sum(1 for i in self.issues if i.severity == "warning") + self._unlisted("warning")

    def _unlisted(self, severity: str) -> int:
        return sum(n for code, n in self.unlisted.items() if CODES[code].severity == severity)

    def list_or_count(self, issues: list[Issue], limit: int, error_rows: int | None = None) -> bool:
        """Add one row's issues (or a repeated SKU's) to `issues` while fewer than `limit` are listed, else
        only count them by code, with `error_rows` rows with an error (default: 1 when one is an error); True
        when they were listed. Once the list is full it stays full, so a row is listed or counted, never both."""
        if len(self.issues) < limit:
            self.issues.extend(issues)
            return True
        for issue in issues:
            self.unlisted[issue.code] = self.unlisted.get(issue.code, 0) + 1
        if error_rows is None:
            error_rows = int(any(i.severity == "error" for i in issues))
        self.unlisted_error_rows += error_rows
        return False

    def reject(self, issue: Issue) -> None:
        """Record a file-level error and drop every row: nothing of this file may be applied."""
        self.issues.append(issue)
        self.rejected = True
        self.row_numbers = []
        self.skus = []
        self.quantities = {key: [] for key in self.quantities}
        self.titles = {}
        self.row_titles = []


@dataclass
class RowChunk:
    """A bounded run of a streamed file's rows, in file order (`parsers.stream_file`).

    Kept rows: `row_numbers`, `skus`, one list per quantity key in `quantities` and `titles` (the row's title
    cell as written, or None), aligned; `suspects` maps the chunk's suspect SKUs to the reason. `failed`:
    (row number, SKU, takes part in the repeated-SKU check) of each row with an error and a SKU. Repeated
    SKUs are all still here: finding them (DUPLICATE_SKU, DUPLICATE_SKU_AGREES) is the reader's job.
    """

    row_numbers: list[int]
    skus: list[str]
    quantities: dict[str, list[int | None]]
    titles: list[str | None]
    suspects: dict[str, str]
    failed: list[tuple[int, str, bool]]
    texts: list[str | None] | None = None   # a delta file: each kept row's first quantity cell as written, when
                                            # not the plain form of its value (`+5`, `007`), else None

