"""Wide-file benchmark: parse time of a Quantity Update with very many columns (one data row).

    python bench/wide_columns.py [--columns N] [--root DIR]

Builds a CSV with a SKU column and N warehouse columns (default 200,000: about 1.9 MB), then times
`parsers.parse_file` from --root (default: this checkout) with the default `max_columns` (refused at once
with TOO_MANY_COLUMNS) and with the limit raised above N (every column checked). A checkout without
`max_columns` is timed once, as it is.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wide_update(columns: int) -> bytes:
    header = ",".join(["SKU", *(f"W{i}" for i in range(columns))])
    row = ",".join(["A1", *(str(i % 10) for i in range(columns))])
    return f"{header}\r\n{row}\r\n".encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=200_000)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose parsers to time")
    args = parser.parse_args()
    sys.path.insert(0, str(args.root.resolve()))
    from parsers import ParseOptions, parse_file

    data = wide_update(args.columns)
    has_limit = "max_columns" in {f.name for f in dataclasses.fields(ParseOptions)}
    runs = [("default limit", ParseOptions()), ("limit raised", ParseOptions(max_columns=args.columns + 1))] \
        if has_limit else [("no limit in this checkout", ParseOptions())]
    print(f"{args.columns:,} columns, {len(data):,} bytes")
    for label, options in runs:
        started = time.perf_counter()
        parsed = parse_file(data, "wide.csv", options)
        seconds = time.perf_counter() - started
        outcome = ", ".join(issue.code for issue in parsed.issues[:3]) or f"{len(parsed.warehouse_columns):,} columns read"
        print(f"{label:26} {seconds:8.2f} s  {outcome}")


if __name__ == "__main__":
    main()
