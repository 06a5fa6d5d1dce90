"""Printing for commands: exactly one JSON document under --json, aligned tables otherwise (both can be
printed as the rows come, for a listing of a whole catalog)."""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence


def print_json(document) -> None:
    """Print one JSON document on stdout."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False, default=str) + "\n")


def short_time(value: str | None) -> str:
    """An ISO time as a table shows it: to the second, a space for the T ("-" when there is none)."""
    return value[:19].replace("T", " ") if value else "-"


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def print_json_streamed(key: str, rows: Iterable, tail: Callable[[], Mapping] = dict) -> None:
    """Print `{key: [rows...], **tail()}` exactly as `print_json` would, each row written as it comes (the
    list is never built); `tail` is called after the last row (what the rows showed, e.g. `"missing"`)."""
    out, rows = sys.stdout, iter(rows)
    out.write("{" + _dumps(key) + ": [")
    separator = ""
    while batch := list(itertools.islice(rows, 1000)):   # one dumps per 1,000 rows: the separators as in one
        out.write(separator + _dumps(batch)[1:-1])
        separator = ", "
    out.write("]" + "".join(f", {_dumps(name)}: {_dumps(value)}" for name, value in tail().items()) + "}\n")


def print_table_streamed(headers: Sequence[str], rows: Callable[[], Iterable[Sequence]],
                         empty: str = "(nothing)") -> None:
    """`print_table` of rows read twice from `rows()` (once to measure the columns, once to print), so
    that they are never all in memory."""
    widths, count = [len(h) for h in headers], 0
    for row in rows():
        count += 1
        widths = [max(w, len("" if v is None else str(v))) for w, v in zip(widths, row)]
    if not count:
        print(empty)
        return
    out = sys.stdout
    out.write("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip() + "\n")
    for row in rows():
        out.write("  ".join(("" if v is None else str(v)).ljust(w) for v, w in zip(row, widths)).rstrip() + "\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence], empty: str = "(nothing)") -> None:
    """Print rows under headers, columns padded to the widest cell."""
    if not rows:
        print(empty)
        return
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())

