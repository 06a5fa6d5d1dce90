"""Alembic environment: migrations run on a connection handed over by `gateway.db.migrate`."""

from alembic import context

from gateway.db.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the `alembic` command line takes this path
    from gateway.db.engine import make_database
    from gateway.settings import load_settings

    connection = make_database(load_settings().database_url).engine.connect()

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
