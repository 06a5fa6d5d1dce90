"""The entry points: parse_file (a file's bytes and name in, its rows in columns and a report out) and
stream_file (the same rules, the rows handed over in bounded chunks as they are read)."""

from __future__ import annotations

from collections.abc import Iterator

from parsers.columns import header_recogniser
from parsers.csv_table import Opener, opener_of
from parsers.issues import make_issue
from parsers.model import MODES, ParsedFile, ParseOptions, RowChunk
from parsers.quantity_update import (
    finish_parse,
    new_parsed_file,
    parse_quantity_update,
    quantity_update_layout,
)
from parsers.rows import iter_rows
from parsers.stock_file import parse_stock_file, stock_file_layout
from parsers.tables import TableReadError, read_table


def _taken_for(data: bytes | Opener, name: str) -> str:
    with opener_of(data)() as stream:
        start = stream.read(4)
    if start.startswith(b"PK\x03\x04") or name.lower().endswith((".xlsx", ".xlsm", ".xls")):
        return "xlsx"
    return "csv"


def parse_file(data: bytes | Opener, name: str, options: ParseOptions = ParseOptions()) -> ParsedFile:
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


def stream_file(data: bytes | Opener, name: str, options: ParseOptions = ParseOptions(), *,
                chunk_rows: int = 50_000) -> tuple[ParsedFile, Iterator[RowChunk]]:
    """Read and validate one file (its bytes, or an Opener the caller gives) with every rule of `parse_file`
    but one: the rows come as RowChunks of about `chunk_rows` rows, and repeated SKUs are left for the reader
    of the chunks to find. The ParsedFile (header, issues, counts, as_of, rejected) is complete once the
    chunks are exhausted; its columns stay empty. A delta file's chunks also carry each kept row's first
    quantity cell as written (`RowChunk.texts`), for the reader to quote when it adds repeated SKUs up.
    Raises ValueError only for an unknown `options.kind`.
    """
    if options.kind not in MODES:
        raise ValueError(f"unknown file kind {options.kind!r}; expected one of {', '.join(MODES)}")
    if options.mode not in MODES[options.kind]:
        return parse_file(data, name, options), iter(())
    try:
        table = read_table(data, name, options, header_recogniser(options))
    except TableReadError as exc:
        parsed = ParsedFile(kind=options.kind, format=_taken_for(data, name))
        parsed.reject(exc.issue)
        return parsed, iter(())
    parsed = new_parsed_file(table, options.kind)
    parsed.streamed = True
    pick = quantity_update_layout if options.kind == "quantity_update" else stock_file_layout
    layout = pick(table, options, parsed)
    if layout is None:
        return parsed, iter(())
    return parsed, _chunks(table, layout, parsed, options, chunk_rows)


def _chunks(table, layout, parsed: ParsedFile, options: ParseOptions, chunk_rows: int) -> Iterator[RowChunk]:
    yield from iter_rows(table, layout, parsed, options.progress, chunk_rows)
    finish_parse(parsed)
