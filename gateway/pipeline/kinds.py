"""What a received file is: its kind, warehouse and mode, how to parse it, and the moment it describes.

A delivery with a warehouse is a stock file of that warehouse; without one, a Quantity Update template.
An account bound to one warehouse may send either when `auto_kind` is on: the header decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from parsers import ParseOptions, read_table
from parsers.columns import normalise_header
from parsers.tables import TableReadError
from gateway.settings import Settings

_MB = 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    """How one file will be read: kind, mode and (stock files) the warehouse it belongs to."""

    kind: str              # quantity_update | stock
    mode: str              # absolute | partial | full | delta
    warehouse: str | None


def delivered_kind(warehouse: str | None, mode: str) -> FileKind:
    """The kind a delivery names, before its bytes are read: a stock file of its warehouse, else a
    Quantity Update template."""
    return FileKind("stock", mode, warehouse) if warehouse else FileKind("quantity_update", "absolute", None)


def parse_options(settings: Settings, kind: FileKind, options: dict[str, Any]) -> ParseOptions:
    """ParseOptions for this file from the [files] settings and the delivery's options."""
    files = settings.files
    return ParseOptions(
        kind=kind.kind, mode=kind.mode, columns=options.get("columns") or None,
        informational_columns=tuple(options.get("informational_columns") or files.informational_columns),
        sheet=options.get("sheet") or None, max_bytes=files.max_file_mb * _MB,
        max_uncompressed_bytes=files.max_uncompressed_mb * _MB,
        max_compression_ratio=files.max_compression_ratio, max_columns=files.max_columns,
        max_sheet_bytes=files.max_sheet_mb * _MB)


def header_says_stock_file(header: list[str], quantity_aliases: tuple[str, ...], warehouse_codes: set[str]) -> bool:
    """True when a header has a quantity column and no column named after a warehouse."""
    wanted = {normalise_header(alias) for alias in quantity_aliases}
    codes = {code.casefold() for code in warehouse_codes}
    has_quantity = any(normalise_header(name) in wanted for name in header)
    names_warehouse = any(name.strip().casefold() in codes for name in header)
    return has_quantity and not names_warehouse


def decide_kind(data: bytes, name: str, file_row: Any, options: dict[str, Any], settings: Settings,
                warehouse_codes: set[str]) -> FileKind:
    """The kind of a received file: from its delivery, or from its header for `auto_kind` accounts."""
    allowed = list(options.get("allowed_warehouses") or [])
    if options.get("auto_kind") and len(allowed) == 1:
        # a single-warehouse account may send its warehouse's stock file or a Quantity Update template
        probe = parse_options(settings, FileKind("stock", "partial", allowed[0]), options)
        try:
            header = read_table(data, name, probe).header
        except TableReadError:
            header = []   # unreadable: read as a stock file, whose parse reports why
        aliases = probe.quantity_aliases + tuple(filter(None, [(options.get("columns") or {}).get("quantity")]))
        if header and not header_says_stock_file(header, aliases, warehouse_codes):
            return FileKind("quantity_update", "absolute", None)
        mode = options.get("mode") or file_row.mode
        return FileKind("stock", mode if mode != "absolute" else "partial", allowed[0])
    if file_row.warehouse:
        return FileKind("stock", file_row.mode if file_row.mode != "absolute" else "partial", file_row.warehouse)
    return FileKind("quantity_update", "absolute", None)


def as_of_from_name(name: str, pattern: str) -> datetime | None:
    """The moment a timestamp in the file name gives (`stock_20261126T0830.csv`), as UTC; None if none.
    In a name with folders (`export_20261126T0830/stock.csv`, from an FTP sub-folder) the file's own name
    is searched first, then its folders from the innermost out."""
    if not pattern:
        return None
    for part in reversed(name.split("/")):
        moment = _as_of_in(part, pattern)
        if moment is not None:
            return moment
    return None


def _as_of_in(name: str, pattern: str) -> datetime | None:
    match = re.search(pattern, name)
    if not match:
        return None
    text = match.groupdict().get("ts") or match.group(0)
    digits = text.replace("T", "").replace("Z", "")
    formats = {12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S", 8: "%Y%m%d"}
    fmt = formats.get(len(digits))
    if fmt is None or not digits.isdigit():
        return None
    try:
        return datetime.strptime(digits, fmt).replace(tzinfo=UTC)
    except ValueError:
        return None   # digits that are no date (an order number): not a timestamp
