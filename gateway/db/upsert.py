"""Dialect-aware INSERT ... ON CONFLICT for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def _insert(conn: Connection, table: Table):
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict], index_elements: Sequence[str]) -> None:
    """Insert `rows`, skipping those whose key already exists."""
    if rows:
        conn.execute(_insert(conn, table).on_conflict_do_nothing(index_elements=list(index_elements)), list(rows))


def upsert(conn: Connection, table: Table, rows: Sequence[dict], index_elements: Sequence[str],
           update: Sequence[str]) -> None:
    """Insert `rows`; where the key exists, overwrite the columns named in `update`."""
    if not rows:
        return
    stmt = _insert(conn, table)
    stmt = stmt.on_conflict_do_update(index_elements=list(index_elements),
                                      set_={name: stmt.excluded[name] for name in update})
    conn.execute(stmt, list(rows))
