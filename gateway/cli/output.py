"""Printing for commands: exactly one JSON document under --json, aligned tables otherwise."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence


def print_json(document) -> None:
    """Print one JSON document on stdout."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False, default=str) + "\n")


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
