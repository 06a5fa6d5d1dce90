"""parse_file: the one entry point the pipeline calls with a received file's bytes and name."""

from __future__ import annotations

from parsers.columns import header_recogniser
from parsers.issues import make_issue
from parsers.model import MODES, ParsedFile, ParseOptions
from parsers.quantity_update import parse_quantity_update
from parsers.stock_file import parse_stock_file
from parsers.tables import TableReadError, read_table


def _taken_for(data: bytes, name: str) -> str:
    if data.startswith(b"PK\x03\x04") or name.lower().endswith((".xlsx", ".xlsm", ".xls")):
        return "xlsx"
    return "csv"


def parse_file(data: bytes, name: str, options: ParseOptions = ParseOptions()) -> ParsedFile:
    """Read and validate one file. Never raises for bad input: an unusable file comes back rejected.

    Raises ValueError only for an unknown `options.kind` (a programming error, not bad input).
    """
    if options.kind not in MODES:
        raise ValueError(f"unknown file kind {options.kind!r}; expected one of {', '.join(MODES)}")
    if options.mode not in MODES[options.kind]:
        parsed = ParsedFile(kind=options.kind, format=_taken_for(data, name))
        parsed.reject(make_issue("INVALID_MODE", value=options.mode, kind=options.kind,
                                 allowed=" or ".join(MODES[options.kind])))
        return parsed
    try:
        table = read_table(data, name, options, header_recogniser(options))
    except TableReadError as exc:
        parsed = ParsedFile(kind=options.kind, format=_taken_for(data, name))
        parsed.reject(exc.issue)
        return parsed
    if options.kind == "quantity_update":
        return parse_quantity_update(table, options)
    return parse_stock_file(table, options)
