"""The database: table definitions, the engine, migrations and the unit of work."""
