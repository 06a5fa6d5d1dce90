"""Run the Alembic migrations to head and seed what every database needs (the `MF` warehouse)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select

from gateway.db import schema
from gateway.db.engine import Database

MIGRATIONS = Path(__file__).with_name("migrations")
DEFAULT_WAREHOUSE = "MF"


def alembic_config() -> Config:
    """The Alembic configuration pointing at the bundled migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest migration shipped with this version."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(db: Database) -> None:
    """Migrate the database to head (nothing happens when it is already there)."""
    cfg = alembic_config()
    with db.engine.connect() as conn:
        if db.is_sqlite:
            conn.info["sg_write"] = True
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        conn.commit()


def ensure_default_warehouse(db: Database) -> bool:
    """Create the merchant-fulfilled warehouse `MF` unless it exists; True when it was created."""
    with db.write() as conn:
        if conn.execute(select(schema.warehouses.c.id).where(schema.warehouses.c.code == DEFAULT_WAREHOUSE)).first():
            return False
        conn.execute(schema.warehouses.insert().values(
            code=DEFAULT_WAREHOUSE, name="Merchant fulfilled", kind="merchant", priority=0, sellable=True,
            created_at=datetime.now(UTC)))
        return True


def initialise(db: Database) -> None:
    """Migrate to head and seed; safe to run any number of times."""
    upgrade(db)
    ensure_default_warehouse(db)
