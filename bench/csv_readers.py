"""CSV reader benchmark: the 1M-row Quantity Update read by each candidate reader, each in its own process.

    python bench/csv_readers.py [--rows N] [--repeat R] [--readers a,b,...]

Writes the benchmark's `first` file (N rows: SKU, Title, MF, EAST, WEST; 35 MB at 1M rows), then, for
each reader, in a fresh child process, reads the file's bytes into a SKU column and three quantity
columns and prints the best of R runs (after reading a few rows once, so imports are not timed) and
the child's own peak RSS (VmHWM; the interpreter, the file's bytes and the reader's imports included: `baseline`
reads nothing). Readers that are not installed are skipped:
  parse_file        the product's parser today (csv module, then every cell checked: issue codes, limits)
  csv_module        csv.reader over the decoded text as parsers/tables.py feeds it, columns built with int()
  csv_text          csv.reader only, cells left as text (what the product's parser starts from)
  pyarrow[_text]    pyarrow.csv.read_csv, quantities as int64 (or every column as text, as the
                    product's checks would need), columns still Arrow arrays
  pyarrow_lists     pyarrow, every column as text, then to Python lists (what today's pipeline consumes)
  polars[_text]     polars.read_csv, typed (or every column as text)
  polars_lists      polars, every column as text, then to Python lists
  pandas[_text]     pandas.read_csv with its C engine, typed (or dtype=str)
  pandas_arrow      pandas.read_csv(engine="pyarrow")
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from own_rss import peak_mb  # noqa: E402  (bench/ is the script's folder, first on sys.path)
sys.path.insert(0, str(ROOT))

QUANTITIES = ("MF", "EAST", "WEST")


def read_parse_file(data: bytes):
    from parsers import parse_file

    parsed = parse_file(data, "update.csv")
    return len(parsed.skus)


def read_csv_module(data: bytes):
    rows = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    next(rows)
    skus, q = [], ([], [], [])
    for sku, _title, a, b, c in rows:
        skus.append(sku)
        q[0].append(int(a))
        q[1].append(int(b))
        q[2].append(int(c))
    return len(skus)


def read_csv_text(data: bytes):
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    return len(rows) - 1


def _pyarrow(data: bytes, text: bool):
    import pyarrow as pa
    from pyarrow import csv as pacsv

    types = {name: pa.string() for name in ("SKU", "Title", *QUANTITIES)} if text else {"SKU": pa.string()}
    return pacsv.read_csv(pa.py_buffer(data), convert_options=pacsv.ConvertOptions(column_types=types))


def read_pyarrow(data: bytes):
    return _pyarrow(data, False).num_rows


def read_pyarrow_text(data: bytes):
    return _pyarrow(data, True).num_rows


def read_pyarrow_lists(data: bytes):
    table = _pyarrow(data, True)
    columns = [table.column(name).to_pylist() for name in ("SKU", *QUANTITIES)]
    return len(columns[0])


def _polars(data: bytes, text: bool):
    import polars as pl

    return pl.read_csv(io.BytesIO(data), infer_schema=not text, schema_overrides=None if text else {"SKU": pl.String})


def read_polars(data: bytes):
    return _polars(data, False).height


def read_polars_text(data: bytes):
    return _polars(data, True).height


def read_polars_lists(data: bytes):
    frame = _polars(data, True)
    columns = [frame.get_column(name).to_list() for name in ("SKU", *QUANTITIES)]
    return len(columns[0])


def read_pandas(data: bytes):
    import pandas as pd

    return len(pd.read_csv(io.BytesIO(data), dtype={"SKU": str}))


def read_pandas_text(data: bytes):
    import pandas as pd

    return len(pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False))


def read_pandas_arrow(data: bytes):
    import pandas as pd

    return len(pd.read_csv(io.BytesIO(data), dtype={"SKU": str}, engine="pyarrow"))


READERS = {"baseline": lambda data: 0, "parse_file": read_parse_file, "csv_module": read_csv_module,
           "csv_text": read_csv_text, "pyarrow": read_pyarrow, "pyarrow_text": read_pyarrow_text,
           "pyarrow_lists": read_pyarrow_lists, "polars": read_polars, "polars_text": read_polars_text,
           "polars_lists": read_polars_lists, "pandas": read_pandas, "pandas_text": read_pandas_text,
           "pandas_arrow": read_pandas_arrow}
NEEDS = {"pyarrow": "pyarrow", "polars": "polars", "pandas": "pandas"}


def child(name: str, path: Path, repeat: int) -> None:
    import gc

    data = path.read_bytes()
    started = time.perf_counter()
    READERS[name](data[:data.index(b"\n", 200) + 1])   # a few rows first: the imports are not timed
    imports = time.perf_counter() - started
    best = None
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        rows = READERS[name](data)
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    print(json.dumps({"seconds": best, "rows": rows, "imports": imports,
                      "rss_mb": peak_mb()}))   # VmHWM: ru_maxrss would start at this parent's size


def installed(name: str) -> str | None:
    """The version of the library `name` needs, or None when it is not installed."""
    library = next((lib for prefix, lib in NEEDS.items() if name.startswith(prefix)), None)
    if library is None:
        return f"Python {sys.version.split()[0]}"
    try:
        module = __import__(library)
    except ImportError:
        return None
    return f"{library} {module.__version__}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--readers", default=",".join(READERS))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.repeat)
        return
    from ingest_data import write_shape

    with tempfile.TemporaryDirectory(prefix="sg-csv-") as folder:
        path = Path(folder) / "update.csv"
        write_shape("first", [], args.rows, path)
        print(f"{args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB; best of {args.repeat}; peak RSS of the child")
        for name in args.readers.split(","):
            version = installed(name)
            if version is None:
                print(f"{name:<14} not installed")
                continue
            run = subprocess.run([sys.executable, __file__, "--child", name, str(path), "--repeat", str(args.repeat)],
                                 capture_output=True, text=True, check=False)
            if run.returncode:
                print(f"{name:<14} failed: {run.stderr.strip().splitlines()[-1]}")
                continue
            result = json.loads(run.stdout.strip().splitlines()[-1])
            print(f"{name:<14} {result['seconds']:6.2f} s {result['rss_mb']:7.0f} MB  {result['rows']:>9,} rows  "
                  f"(imports and first rows {result['imports']:.2f} s; {version})")


if __name__ == "__main__":
    main()
