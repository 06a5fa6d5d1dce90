"""The Bulk Upload History: received files newest first, by status and by warehouse (CLI and web page).

A warehouse's history holds its stock files and every Quantity Update template that changed one of its
levels (a ledger entry of that file in that warehouse); a template that changed nothing there, or was
rejected, names no warehouse of its own and is left out.
"""

from __future__ import annotations

from sqlalchemy import Connection, Row, and_, func, or_, select

from gateway.db import schema
from gateway.stock import find_warehouse


def file_history(conn: Connection, *, status: str | None = None, warehouse: str | None = None,
                 limit: int = 50, offset: int = 0) -> list[Row]:
    """Rows of `files`, newest first: at most `limit` after skipping `offset`. `warehouse` is found
    without regard to case (NotFoundError naming the known codes when there is none)."""
    f, l = schema.files.c, schema.ledger.c
    query = select(schema.files).order_by(f.seq.desc()).offset(offset).limit(limit)
    if status:
        query = query.where(f.status == status)
    if warehouse:
        wh = find_warehouse(conn, warehouse)
        changed_it = select(l.id).where(l.file_id == f.file_id, l.warehouse_id == wh.id).exists()
        query = query.where(or_(func.lower(f.warehouse) == wh.code.lower(),
                                and_(f.kind == "quantity_update", changed_it)))
    return list(conn.execute(query).all())
