"""The database: table definitions, the engine, migrations, the unit of work and named leases."""
