"""The ingest benchmark's data: a catalog, one Quantity Update per shape, and fresh databases to run them on.

A store hands out databases by name: SQLite files copied from a built one, or PostgreSQL databases
created from a built template (its own `bench_<random>_*` databases on the server, all dropped at the end).
"""

from __future__ import annotations

import csv
import io
import random
import secrets
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

WAREHOUSES = ("MF", "EAST", "WEST")
SHAPES = ("changed5", "changed100", "first")
SHAPE_TEXT = {
    "changed5": "every SKU known, 5% of the cells differ from the stored levels",
    "changed100": "every SKU known, every cell differs from its stored level",
    "first": "an empty catalog: every SKU new, created from the file (create_unknown_skus), every cell above 0",
}


def catalog_levels(rows: int, seed: int = 7) -> list[list[int]]:
    """The stored levels: one list per warehouse, `rows` values each (index i is item i + 1)."""
    rng = random.Random(seed)
    return [[rng.randrange(0, 500) for _ in range(rows)] for _ in WAREHOUSES]


def write_shape(shape: str, levels: list[list[int]], rows: int, csv_path: Path, seed: int = 11) -> int:
    """Write the shape's N-row Quantity Update (SKU, Title, one column per warehouse); cells that change."""
    rng = random.Random(seed)
    rand, randrange = rng.random, rng.randrange
    changed = 0
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["SKU", "Title", *WAREHOUSES])
        for i in range(rows):
            if shape == "first":
                values = [randrange(1, 500) for _ in WAREHOUSES]
                changed += len(values)
            else:
                values = [level[i] for level in levels]
                for k in range(len(values)):
                    if shape == "changed100" or rand() < 0.05:
                        values[k] += randrange(1, 50)
                        changed += 1
            writer.writerow([f"SKU{i + 1:07d}", f"Item {i + 1}", *values])
    return changed


def _migrate(url: str) -> None:
    """Migrate a new database to head and give it the three warehouses."""
    from gateway.db import schema
    from gateway.db.engine import make_database
    from gateway.db.migrate import ensure_default_warehouse, upgrade

    db = make_database(url, create=True)
    upgrade(db)
    ensure_default_warehouse(db)
    with db.write() as conn:
        conn.execute(schema.warehouses.insert(), [
            {"code": code, "name": code, "kind": "merchant", "priority": p, "sellable": True,
             "created_at": datetime.now(UTC)} for p, code in enumerate(WAREHOUSES[1:], 1)])
    db.dispose()


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class SqliteStore:
    """SQLite files in `folder`: `build` makes one, `copy` gives each run its own copy."""

    kind = "sqlite"

    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.db"

    def url(self, name: str) -> str:
        return f"sqlite:///{self.path(name)}"

    def build(self, name: str, levels: list[list[int]] | None) -> None:
        """A migrated database with the warehouses and, unless `levels` is None, the catalog and its levels."""
        _migrate(self.url(name))
        if levels is None:
            return
        con = sqlite3.connect(self.path(name))
        now, rows = _stamp(), len(levels[0])
        con.executemany("INSERT INTO items (id, sku, title, created_at) VALUES (?,?,?,?)",
                        ((i, f"SKU{i:07d}", f"Item {i}", now) for i in range(1, rows + 1)))
        ids = dict(con.execute("SELECT code, id FROM warehouses"))
        for code, values in zip(WAREHOUSES, levels):
            con.executemany("INSERT INTO stock_levels (item_id, warehouse_id, on_hand, updated_at) VALUES (?,?,?,?)",
                            ((i, ids[code], v, now) for i, v in enumerate(values, 1)))
        con.commit()
        con.close()

    def copy(self, template: str, name: str) -> str:
        shutil.copy(self.path(template), self.path(name))
        return self.url(name)

    def drop(self, name: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path(name)}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        pass


class PostgresStore:
    """Databases `bench_<random>_<name>` on the server of `server_url`, made from built templates."""

    kind = "postgresql"

    def __init__(self, server_url: str):
        from sqlalchemy.engine import make_url

        self.server = make_url(server_url)
        self.prefix = f"bench_{secrets.token_hex(4)}"
        self.made: list[str] = []

    def _admin(self):
        import psycopg

        return psycopg.connect(self.conninfo(self.server.database or "postgres"), autocommit=True)

    def conninfo(self, database: str) -> str:
        return self.server.set(drivername="postgresql", database=database).render_as_string(hide_password=False)

    def dbname(self, name: str) -> str:
        return f"{self.prefix}_{name}"

    def url(self, name: str) -> str:
        return self.server.set(drivername="postgresql+psycopg", database=self.dbname(name)).render_as_string(
            hide_password=False)

    def build(self, name: str, levels: list[list[int]] | None) -> None:
        import psycopg

        with self._admin() as admin:
            admin.execute(f'CREATE DATABASE "{self.dbname(name)}"')
        self.made.append(name)
        _migrate(self.url(name))
        if levels is None:
            return
        now, rows = datetime.now(UTC), len(levels[0])
        with psycopg.connect(self.conninfo(self.dbname(name))) as con, con.cursor() as cur:
            ids = dict(cur.execute("SELECT code, id FROM warehouses").fetchall())
            with cur.copy("COPY items (id, sku, title, created_at) FROM STDIN") as copy:
                for i in range(1, rows + 1):
                    copy.write_row((i, f"SKU{i:07d}", f"Item {i}", now))
            cur.execute("SELECT setval(pg_get_serial_sequence('items', 'id'), %s)", (rows,))
            for code, values in zip(WAREHOUSES, levels):
                buffer = io.StringIO()
                wh, stamp = ids[code], now.isoformat()
                buffer.writelines(f"{i}\t{wh}\t{v}\t{stamp}\n" for i, v in enumerate(values, 1))
                with cur.copy("COPY stock_levels (item_id, warehouse_id, on_hand, updated_at) FROM STDIN") as copy:
                    copy.write(buffer.getvalue())
            con.commit()
        with psycopg.connect(self.conninfo(self.dbname(name)), autocommit=True) as con:
            con.execute("VACUUM ANALYZE")

    def copy(self, template: str, name: str) -> str:
        with self._admin() as admin:
            admin.execute(f'CREATE DATABASE "{self.dbname(name)}" TEMPLATE "{self.dbname(template)}" '
                          f"STRATEGY FILE_COPY")
        self.made.append(name)
        return self.url(name)

    def drop(self, name: str) -> None:
        with self._admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.dbname(name)}" WITH (FORCE)')
        if name in self.made:
            self.made.remove(name)

    def close(self) -> None:
        """Drop every database this store made."""
        for name in list(self.made):
            self.drop(name)


def summary(url: str) -> dict[str, int]:
    """What a run wrote, to compare the pipeline's database with its floor's."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM stock_levels), "
            "(SELECT coalesce(sum(on_hand), 0) FROM stock_levels), (SELECT count(*) FROM ledger), "
            "(SELECT coalesce(sum(delta), 0) FROM ledger), (SELECT coalesce(sum(file_row), 0) FROM ledger), "
            "(SELECT coalesce(sum(length(title)), 0) FROM items)")).one()
    engine.dispose()
    return dict(zip(("items", "levels", "on_hand", "ledger", "ledger_delta", "ledger_rows", "title_chars"),
                    map(int, row)))
