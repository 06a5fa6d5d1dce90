"""How long the inventory page's queries take on a big catalog: the first page, a page deep in the catalog
(keyset: `after` a SKU near the end), a search by SKU or title that matches little, one item's page.

    .venv/bin/python bench/inventory_pages.py [--skus 1000000] [--database-url URL]

Without --database-url an SQLite file in a temporary folder is used; a PostgreSQL URL must name an empty
database (the catalog is inserted there, migrated first). Prints one line per query: median of 5 runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))

from big_catalog import insert_catalog  # noqa: E402

from gateway.db.engine import make_database  # noqa: E402
from gateway.db.migrate import ensure_default_warehouse, upgrade  # noqa: E402
from gateway.stock.inventory import item_detail, ledger_page, stock_page  # noqa: E402


def _median_ms(work, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=1_000_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        db = make_database(url)
        upgrade(db)
        ensure_default_warehouse(db)
        start = time.perf_counter()
        insert_catalog(url, args.skus)
        print(f"{db.engine.dialect.name}: {args.skus:,} SKUs inserted in {time.perf_counter() - start:.1f} s")
        deep = f"SKU-{args.skus - 100}"   # text order: a SKU near the end of the index
        cases = {
            "first page (50)": lambda conn: stock_page(conn, limit=50),
            f"page after {deep}": lambda conn: stock_page(conn, after=deep, limit=50),
            f"page before {deep}": lambda conn: stock_page(conn, before=deep, limit=50),
            "search 'SKU-99999' (few matches)": lambda conn: stock_page(conn, search="SKU-99999", limit=50),
            "search 'no such text' (none)": lambda conn: stock_page(conn, search="no such text", limit=50),
            "item page": lambda conn: item_detail(conn, deep),
            "item ledger page": lambda conn: ledger_page(conn, deep),
        }
        for name, query in cases.items():
            with db.read() as conn:
                ms = _median_ms(lambda: query(conn))
            print(f"  {name:<40} {ms:9.1f} ms")
        db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
