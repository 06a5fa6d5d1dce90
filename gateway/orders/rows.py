"""Reading and writing order rows shared by acceptance, cancellation and the views.

Every order is changed under a lock of its own row (SELECT ... FOR UPDATE on PostgreSQL; SQLite write
transactions hold the database lock), so two deliveries of one order queue and the second sees the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Row, select, update

from gateway.clock import now
from gateway.core.restore_policy import NOT_CONSULTED, RestoreDecision
from gateway.db import schema
from gateway.db.upsert import insert_ignore
from gateway.errors import NotFoundError

REFERENCE_MAX_LENGTH = 200

# The decision stored on a line cancelled before its order took any stock.
NOTHING_TAKEN = RestoreDecision(
    False, "not_accepted", NOT_CONSULTED,
    "The order had not been accepted when this line was cancelled, so it had taken no stock and there is "
    "nothing to give back.",
)


@dataclass(frozen=True)
class ChannelRow:
    """The parts of a channel the order services use."""

    id: int
    name: str
    marketplace: str
    restore_policy: str


def channel_row(conn: Connection, name: str) -> ChannelRow:
    """The channel called `name`; NotFoundError naming the known channels when there is none."""
    c = schema.channels.c
    row = conn.execute(select(c.id, c.name, c.marketplace, c.restore_policy).where(c.name == name)).first()
    if row is None:
        known = conn.execute(select(c.name).order_by(c.name)).scalars().all()
        raise NotFoundError(f"unknown channel {name!r} (known: {', '.join(known) or 'none'})")
    return ChannelRow(*row)


def line_reference(channel: str, order_id: str, line_id: str) -> str:
    """The ledger reference of an order line: `<channel>/<order_id>/<line_id>`."""
    return f"{channel}/{order_id}/{line_id}"[:REFERENCE_MAX_LENGTH]


def _order_query(conn: Connection, channel_id: int, order_id: str, lock: bool):
    o = schema.orders.c
    query = select(schema.orders).where(o.channel_id == channel_id, o.order_id == order_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return query


def locked_order(conn: Connection, channel_id: int, order_id: str) -> Row | None:
    """The order row, locked for the rest of the transaction, or None."""
    return conn.execute(_order_query(conn, channel_id, order_id, lock=True)).first()


def find_order(conn: Connection, channel: ChannelRow, order_id: str, *, lock: bool) -> Row:
    """The order row of `channel`; NotFoundError when StockGate never saw it."""
    row = conn.execute(_order_query(conn, channel.id, order_id, lock=lock)).first()
    if row is None:
        raise NotFoundError(f"channel {channel.name!r} has no order {order_id!r}")
    return row


def ensure_order(conn: Connection, channel_id: int, order_id: str, placed_at: datetime) -> Row:
    """The order row, created as `pending` when new, and locked."""
    row = locked_order(conn, channel_id, order_id)
    if row is None:
        insert_ignore(conn, schema.orders, [{
            "channel_id": channel_id, "order_id": order_id, "placed_at": placed_at, "status": "pending",
            "oversold": 0, "created_at": now()}], ["channel_id", "order_id"])
        row = locked_order(conn, channel_id, order_id)
    return row


def order_lines(conn: Connection, order_pk: int) -> list[Row]:
    """The order's lines in the order they were first recorded."""
    ol = schema.order_lines.c
    return conn.execute(select(schema.order_lines).where(ol.order_pk == order_pk).order_by(ol.id)).all()


def set_order(conn: Connection, order_pk: int, **values) -> None:
    """Update columns of one order row."""
    conn.execute(update(schema.orders).where(schema.orders.c.id == order_pk).values(**values))


def cancel_lines(conn: Connection, line_pks: Sequence[int], decision: RestoreDecision, *, at: datetime,
                 where: str, reason: str | None, by: str | None = None) -> None:
    """Mark lines cancelled with the restore decision that was made for them (and who cancelled, if known)."""
    if not line_pks:
        return
    ol = schema.order_lines.c
    conn.execute(update(schema.order_lines).where(ol.id.in_(list(line_pks))).values(
        status="cancelled", cancelled_at=at, cancel_where=where, cancel_reason=reason, cancel_by=by,
        restore=decision.restore, restore_rule=decision.rule, restore_explanation=decision.explanation))


def close_order_when_every_line_is_cancelled(conn: Connection, order_pk: int, at: datetime) -> str:
    """Set the order `cancelled` once none of its lines is open; return its status."""
    lines = order_lines(conn, order_pk)
    status = conn.execute(select(schema.orders.c.status).where(schema.orders.c.id == order_pk)).scalar_one()
    if lines and status != "cancelled" and all(line.status == "cancelled" for line in lines):
        set_order(conn, order_pk, status="cancelled", cancelled_at=at)
        return "cancelled"
    return status
