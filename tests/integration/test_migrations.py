"""Alembic migrations create exactly the tables the code declares."""

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from gateway.db import schema
from gateway.db.engine import make_database
from gateway.db.migrate import alembic_config, current_revision, head_revision, initialise
from gateway.errors import ConfigError


# SQLite cannot reflect the index on lower(code); PostgreSQL compares it
@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning",
                            "ignore:Skipped unsupported reflection of expression-based index")
def test_the_migrated_database_matches_the_declared_tables(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), schema.metadata)
    assert diff == []
    assert current_revision(db) == head_revision()


def test_initialising_twice_changes_nothing(db):
    initialise(db)
    initialise(db)
    with db.read() as conn:
        codes = [r[0] for r in conn.execute(schema.warehouses.select().with_only_columns(schema.warehouses.c.code))]
    assert codes == ["MF"]


def _migrate(db, revision: str) -> None:
    cfg = alembic_config()
    with db.engine.connect() as conn:
        conn.info["sg_write"] = True
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()


def test_upgrading_a_database_holding_codes_that_differ_by_case_is_refused_naming_them(tmp_path):
    db = make_database(f"sqlite:///{tmp_path / 'old.db'}")
    _migrate(db, "0004")   # the revision before the one that makes codes unique without regard to case
    with db.write() as conn:
        for code in ("EAST", "east", "WEST"):
            conn.execute(schema.warehouses.insert().values(code=code, name=code, kind="merchant", priority=1,
                                                           sellable=True, created_at=datetime.now(UTC)))
    with pytest.raises(ConfigError, match="warehouses 'EAST', 'east' have codes that differ only by case"):
        _migrate(db, "head")
    assert current_revision(db) == "0004"
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM warehouses")).scalar() == 3
    db.dispose()


def test_the_accounts_migration_goes_down_to_0005_and_up_again_on_both_engines(db):
    from gateway.accounts.users import add_user, list_users

    add_user(db, "ada", "correct horse", "admin")
    cfg = alembic_config()
    with db.engine.connect() as conn:
        conn.info["sg_write"] = True
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
        conn.commit()
    assert current_revision(db) == "0005"
    with db.read() as conn:
        assert conn.execute(text("SELECT code FROM warehouses")).scalars().all() == ["MF"]
    _migrate(db, "head")
    assert current_revision(db) == head_revision() and list_users(db) == []
    add_user(db, "ada", "correct horse", "admin")
    assert [u.name for u in list_users(db)] == ["ada"]
