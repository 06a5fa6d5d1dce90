"""StockGate's file parsers: bytes and a name in, validated rows and issues out (no I/O of their own).

Names are loaded on first use so `python -m parsers.issues` runs without a double import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "parse_file": "parsers.files",
    "stream_file": "parsers.files",
    "RowChunk": "parsers.model",
    "CODES": "parsers.issues",
    "Issue": "parsers.issues",
    "IssueCode": "parsers.issues",
    "Severity": "parsers.issues",
    "make_issue": "parsers.issues",
    "render_issue_codes_markdown": "parsers.issues",
    "DEFAULT_INFORMATIONAL": "parsers.model",
    "DEFAULT_QUANTITY_ALIASES": "parsers.model",
    "DEFAULT_SKU_ALIASES": "parsers.model",
    "ParsedFile": "parsers.model",
    "ParseOptions": "parsers.model",
    "Table": "parsers.tables",
    "TableReadError": "parsers.tables",
    "read_table": "parsers.tables",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from parsers.files import parse_file, stream_file
    from parsers.issues import CODES, Issue, IssueCode, Severity, make_issue, render_issue_codes_markdown
    from parsers.model import (
        DEFAULT_INFORMATIONAL,
        DEFAULT_QUANTITY_ALIASES,
        DEFAULT_SKU_ALIASES,
        ParsedFile,
        ParseOptions,
        RowChunk,
    )
    from parsers.tables import Table, TableReadError, read_table


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'parsers' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
