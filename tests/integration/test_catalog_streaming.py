"""A whole catalog read out streaming: the Quantity Update template (CSV, XLSX), `stockgate stock` and
`stock --json` give the same content as before for a small catalog, and for a big one read the database a
batch at a time (their peak memory stays far under what holding every row takes)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import tracemalloc
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import DateTime, bindparam, text

from gateway.cli import main as cli_main
from gateway.db import schema
from gateway.stock import set_stock
from gateway.stock.template import write_template

WAREHOUSES = '[[warehouses]]\ncode = "EAST"\npriority = 1\n\n[[warehouses]]\ncode = "WEST"\npriority = 2\nsellable = false\n'
BIG = 200_000
# far under what 200,000 SKUs x 3 warehouses take held at once (the code that read them all first peaked,
# by tracemalloc, at 123 MB for the CSV template and 162 MB for `stock --json`; 31 MB for a 50,000-SKU XLSX);
# streamed, a few batches of rows and the writers' buffers: about 2 MB
MEMORY_BOUND = 8 * 1024 * 1024


@pytest.fixture
def catalog(stockgate, write_config, db):
    """A migrated database with MF, EAST, WEST (WEST not sellable) and `fill(...)` to stock it."""
    config = write_config(WAREHOUSES)
    assert stockgate("init", config=config).code == 0

    def run(*args: str) -> tuple[int, str]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = cli_main(["--config", str(config), *args])
        return code, out.getvalue()

    return config, run


def _small(db) -> None:
    with db.write() as conn:
        for sku, warehouse, qty in [("A1", "MF", 5), ("A1", "EAST", 3), ("A1", "WEST", 7), ("B-100", "EAST", 2),
                                    ("00123", "MF", 1200), ("=SUM(1)", "WEST", 4), ("Ünï", "MF", 0)]:
            set_stock(conn, sku, warehouse, qty)
        conn.execute(schema.items.update().where(schema.items.c.sku == "A1").values(title='Hat, "red"'))
        conn.execute(schema.items.update().where(schema.items.c.sku == "Ünï").values(title="+1 scarf"))


def _big(db, count: int = BIG) -> None:
    """`count` SKUs (`SKU-1000001` ...) titled and stocked in every warehouse, inserted set-based."""
    now = bindparam("now", datetime.now(UTC), type_=DateTime(timezone=True))
    with db.write() as conn:
        conn.execute(text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
                          "INSERT INTO items (sku, title, created_at) "
                          "SELECT 'SKU-' || (1000000 + i), 'Item ' || i, :now FROM n")
                     .bindparams(now, count=count))
        conn.execute(text("INSERT INTO stock_levels (item_id, warehouse_id, on_hand, updated_at) "
                          "SELECT items.id, warehouses.id, warehouses.priority + 2, :now "
                          "FROM items, warehouses").bindparams(now))


def test_a_small_catalogs_csv_template_is_byte_for_byte_what_it_was(catalog, db, tmp_path):
    _small(db)
    with db.read() as conn:
        count = write_template(conn, tmp_path / "t.csv")
    assert count == 5
    assert (tmp_path / "t.csv").read_bytes().decode("utf-8") == (
        "\ufeffSKU,Title,MF,EAST,WEST\r\n"
        "00123,,1200,0,0\r\n"
        "\"'=SUM(1)\",,0,0,4\r\n"
        "A1,\"Hat, \"\"red\"\"\",5,3,7\r\n"
        "B-100,,0,2,0\r\n"
        "Ünï,\"'+1 scarf\",0,0,0\r\n")


def test_a_small_catalogs_xlsx_and_account_template_hold_what_they_held(catalog, db, tmp_path):
    _small(db)
    with db.read() as conn:
        write_template(conn, tmp_path / "t.xlsx", fmt="xlsx", warehouses=["west", "MF"])
    sheet = load_workbook(tmp_path / "t.xlsx", read_only=True)["Quantity Update"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows == [["SKU", "Title", "WEST", "MF"], ["00123", None, 0, 1200], ["=SUM(1)", None, 4, 0],
                    ["A1", 'Hat, "red"', 7, 5], ["B-100", None, 0, 0], ["Ünï", "+1 scarf", 0, 0]]


def test_stock_and_stock_json_of_a_small_catalog_print_what_they_printed(catalog, db):
    _small(db)
    _, run = catalog
    code, out = run("stock", "--json")
    document = {"items": [
        {"sku": "00123", "warehouses": {"MF": 1200}, "available": 1200},
        {"sku": "=SUM(1)", "warehouses": {"WEST": 4}, "available": 0},
        {"sku": "A1", "warehouses": {"MF": 5, "EAST": 3, "WEST": 7}, "available": 8},
        {"sku": "B-100", "warehouses": {"EAST": 2}, "available": 2},
        {"sku": "Ünï", "warehouses": {"MF": 0}, "available": 0}]}
    assert code == 0
    # SKU order is the database's byte order (C collation): digits, then `=`, then letters
    assert json.loads(out) == document and out == json.dumps(document, ensure_ascii=False) + "\n"

    code, out = run("stock", "--json", "A1", "nope", "B-100")
    assert code == 1 and json.loads(out) == {"items": [document["items"][2], document["items"][3]],
                                             "missing": ["nope"]}
    assert out == json.dumps(json.loads(out), ensure_ascii=False) + "\n"

    code, out = run("stock")
    assert code == 0 and out.splitlines() == [
        "SKU      WAREHOUSES          AVAILABLE",
        "00123    MF=1200             1200",
        "=SUM(1)  WEST=4              0",
        "A1       MF=5 EAST=3 WEST=7  8",
        "B-100    EAST=2              2",
        "Ünï      MF=0                0"]
    assert run("stock", "none") == (1, "none of these SKUs is known\n")


def _peak(work) -> int:
    """Peak bytes Python allocated while `work()` ran."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        work()
        peak = tracemalloc.get_traced_memory()[1]
        print(f"peak {peak / 1e6:.1f} MB")
        return peak
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_the_csv_template_of_200k_skus_is_written_a_batch_at_a_time(catalog, db, tmp_path):
    _big(db)
    with db.read() as conn:
        peak = _peak(lambda: write_template(conn, tmp_path / "t.csv"))
    rows = list(csv.reader(io.StringIO((tmp_path / "t.csv").read_text("utf-8-sig"))))
    assert len(rows) == BIG + 1 and rows[1] == ["SKU-1000001", "Item 1", "2", "3", "4"]
    assert rows[-1][:2] == [f"SKU-{1_000_000 + BIG}", f"Item {BIG}"]
    assert peak < MEMORY_BOUND, f"peak {peak / 1e6:.1f} MB"


@pytest.mark.slow
def test_stock_json_of_200k_skus_is_printed_as_it_is_read(catalog, db, tmp_path):
    _big(db)
    config, _ = catalog
    out_path = tmp_path / "stock.json"

    def work():
        with open(out_path, "w", encoding="utf-8") as out, contextlib.redirect_stdout(out):
            assert cli_main(["--config", str(config), "stock", "--json"]) == 0

    peak = _peak(work)
    items = json.loads(out_path.read_text("utf-8"))["items"]
    assert len(items) == BIG and items[0] == {"sku": "SKU-1000001", "warehouses": {"MF": 2, "EAST": 3, "WEST": 4},
                                              "available": 5}
    assert peak < MEMORY_BOUND, f"peak {peak / 1e6:.1f} MB"


@pytest.mark.slow
def test_the_xlsx_template_rows_come_lazily_from_the_database(catalog, db, tmp_path):
    """openpyxl's write-only sheet writes each row as it is appended: what is left to prove is that the
    rows handed to it are read a batch at a time (30,000 SKUs: tracemalloc slows openpyxl a lot)."""
    _big(db, 30_000)
    with db.read() as conn:
        peak = _peak(lambda: write_template(conn, tmp_path / "t.xlsx", fmt="xlsx"))
    sheet = load_workbook(tmp_path / "t.xlsx", read_only=True)["Quantity Update"]
    assert sum(1 for _ in sheet.iter_rows(values_only=True)) == 30_001
    assert peak < MEMORY_BOUND, f"peak {peak / 1e6:.1f} MB"
