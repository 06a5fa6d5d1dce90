"""The composition root: settings, the database and what every command and the server share."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select, update

from gateway.db import schema
from gateway.db.engine import Database, make_database, sqlite_file
from gateway.db.migrate import current_revision, head_revision, initialise
from gateway.errors import ConfigError
from gateway.settings import Settings, load_settings


@dataclass
class App:
    """What a running StockGate holds: its settings and, opened on first use, its database."""

    settings: Settings

    @classmethod
    def from_config(cls, path: str | None = None) -> "App":
        return cls(load_settings(path))

    @functools.cached_property
    def db(self) -> Database:
        """The database, checked to exist, be initialised and be up to date. Only `init` (`initialise`)
        creates a data folder or a database file: every other command that finds none says to run it."""
        self._check_initialised()
        db = make_database(self.settings.database_url)
        revision = current_revision(db)
        if revision is None:
            raise ConfigError(f"the database at {self.settings.database_url} is not initialised: run `stockgate init`")
        if revision != head_revision():
            raise ConfigError("the database schema is older than this StockGate: run `stockgate init` to upgrade it")
        sync_config(db, self.settings)   # warehouses and channels edited in the configuration take effect now
        return db

    def _check_initialised(self) -> None:
        """ConfigError naming what is missing when `init` has not made the database file or the data folder."""
        path = sqlite_file(self.settings.database_url)
        if path is not None and not path.is_file():
            raise ConfigError(f"no database at {path}: run `stockgate init` to create it")
        if not self.settings.data_dir.is_dir():
            raise ConfigError(f"no data folder at {self.settings.data_dir}: run `stockgate init` to create it")

    def initialise(self) -> Database:
        """Create the data folder and database, migrate to head, seed `MF` and the configured warehouses."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = make_database(self.settings.database_url, create=True)
        initialise(db)
        self.__dict__["db"] = db
        sync_config(db, self.settings)
        return db

    def close(self) -> None:
        if "db" in self.__dict__:
            self.__dict__.pop("db").dispose()


def sync_config(db: Database, settings: Settings) -> None:
    """Make the database's warehouses and channels agree with the configuration (and a channel's stored
    edits, which win over the file: `gateway.channel_sync.overrides`). Only what differs is
    written, and when nothing does no write transaction is opened (no lock taken for a read-only command).
    Warehouses and channels not in the configuration are left alone."""
    if not settings.warehouses and not settings.channels:
        return
    with db.read() as conn:
        if not _config_changes(conn, settings) and not _location_changes(conn, settings):
            return
    with db.write() as conn:
        for table, key, name, wanted, exists in _config_changes(conn, settings):
            if exists:
                conn.execute(update(table).where(key == name).values(**wanted))
            elif table is schema.warehouses:
                conn.execute(table.insert().values(code=name, created_at=datetime.now(UTC), **wanted))
            else:
                conn.execute(table.insert().values(name=name, imported=False, created_at=datetime.now(UTC), **wanted))
        cl = schema.channel_locations.c
        for channel_id, rows in _location_changes(conn, settings):
            if channel_id is None:
                continue
            conn.execute(delete(schema.channel_locations).where(cl.channel_id == channel_id))
            if rows:
                conn.execute(schema.channel_locations.insert(), [
                    {"channel_id": channel_id, "warehouse_id": w, "location": loc} for w, loc in sorted(rows)])


def _location_changes(conn, settings: Settings) -> list[tuple[int | None, set[tuple[int, str]]]]:
    """(channel id, wanted (warehouse id, location) pairs) for each configured channel whose `locations`
    the database does not hold as configured. A channel or warehouse not yet created is skipped (it is
    created, and this asked again, in the write transaction)."""
    c, w, cl = schema.channels.c, schema.warehouses.c, schema.channel_locations.c
    ids = dict(conn.execute(select(c.name, c.id)).all())
    warehouses = {code.casefold(): wid for code, wid in conn.execute(select(w.code, w.id))}
    stored: dict[int, set[tuple[int, str]]] = {}
    for channel_id, warehouse_id, location in conn.execute(select(cl.channel_id, cl.warehouse_id, cl.location)):
        stored.setdefault(channel_id, set()).add((warehouse_id, location))
    changes = []
    for cfg in settings.channels:
        if cfg.name not in ids:
            changes.append((None, set()))
            continue
        wanted = {(warehouses.get(code.casefold()), loc) for loc, codes in cfg.location_warehouses().items()
                  for code in codes}
        if None in {wid for wid, _ in wanted}:
            changes.append((None, set()))
        elif wanted != stored.get(ids[cfg.name], set()):
            changes.append((ids[cfg.name], wanted))
    return changes


def _config_changes(conn, settings: Settings) -> list[tuple]:
    """(table, key column, name, wanted values, row exists) for each configured warehouse or channel that
    the database does not hold as configured (a channel's values with its stored edits applied)."""
    from gateway.channel_sync.overrides import channel_edits, effective_channel

    changes = []
    w = schema.warehouses.c
    # codes are found without regard to case: `east` in the file is the warehouse `EAST`, which keeps the
    # spelling it was created with (its files and reports name it so)
    existing = {r.code.casefold(): r for r in conn.execute(select(w.code, w.name, w.kind, w.priority, w.sellable))}
    for cfg in settings.warehouses:
        wanted = {"name": cfg.name or cfg.code, "kind": cfg.kind, "priority": cfg.priority, "sellable": cfg.sellable}
        row = existing.get(cfg.code.casefold())
        if row is None or any(getattr(row, k) != v for k, v in wanted.items()):
            changes.append((schema.warehouses, w.code, row.code if row else cfg.code, wanted, row is not None))
    c = schema.channels.c
    channels = {r.name: r for r in conn.execute(select(c.name, c.marketplace, c.adapter, c.restore_policy, c.buffer,
                                                       c.max_qty, c.enabled))}
    edits = channel_edits(conn)   # an operator's edits win over the file (`stockgate channels set`)
    for cfg in settings.channels:
        cfg = effective_channel(cfg, edits.get(cfg.name)).channel
        wanted = {"marketplace": cfg.marketplace, "adapter": cfg.adapter, "restore_policy": cfg.restore_policy,
                  "buffer": cfg.buffer, "max_qty": cfg.max_qty, "enabled": cfg.enabled}
        row = channels.get(cfg.name)
        if row is None or any(getattr(row, k) != v for k, v in wanted.items()):
            changes.append((schema.channels, c.name, cfg.name, wanted, row is not None))
    return changes
