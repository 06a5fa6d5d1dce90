"""Alembic migrations create exactly the tables the code declares."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from gateway.db import schema
from gateway.db.migrate import current_revision, head_revision, initialise


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
