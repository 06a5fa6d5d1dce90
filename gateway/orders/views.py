"""Read-only views of orders: the list for `orders` and the explanation for `orders explain`."""

from __future__ import annotations

import json
from collections import defaultdict

from sqlalchemy import Connection, func, select

from gateway.clock import iso
from gateway.core.restore_policy import NOT_CONSULTED, reason_verdict
from gateway.db import schema
from gateway.errors import UsageError
from gateway.orders.model import ORDER_STATUSES
from gateway.orders.rows import channel_row, find_order, order_lines


def _verdict(marketplace: str, rule: str | None, reason: str | None) -> str:
    """What the reason table said: only `smart_*` rules consulted it (the stored rule tells which)."""
    if rule and rule.startswith("smart_"):
        return reason_verdict(marketplace, reason).value
    return NOT_CONSULTED


MAX_PAGE_SIZE = 1000


def _order_filter(conn: Connection, query, channel: str | None, status: str | None):
    """`query` limited to one channel's orders and one status; UsageError for a status that is none."""
    o = schema.orders.c
    if channel is not None:
        query = query.where(o.channel_id == channel_row(conn, channel).id)
    if status is not None:
        if status not in ORDER_STATUSES:
            raise UsageError(f"order status {status!r} is not one of {', '.join(ORDER_STATUSES)}")
        query = query.where(o.status == status)
    return query


def count_orders(conn: Connection, channel: str | None = None, status: str | None = None) -> int:
    """How many orders `list_orders` lists with these filters (without its paging)."""
    return conn.execute(_order_filter(conn, select(func.count()).select_from(schema.orders), channel,
                                      status)).scalar_one()


def list_orders(conn: Connection, channel: str | None = None, status: str | None = None, *,
                limit: int | None = None, offset: int = 0) -> list[dict]:
    """Orders (of one channel, of one status when named), newest placement first, with unit totals;
    `limit` and `offset` page through them. NotFoundError for an unknown channel."""
    if limit is not None and not 1 <= limit <= MAX_PAGE_SIZE:
        raise UsageError(f"page size {limit} must be 1 to {MAX_PAGE_SIZE}")
    if offset < 0:
        raise UsageError(f"offset {offset} must be 0 or more")
    o, c, ol, a = schema.orders.c, schema.channels.c, schema.order_lines.c, schema.allocations.c
    query = (select(o.id, c.name, o.order_id, o.placed_at, o.status, o.accepted_at, o.cancelled_at, o.oversold)
             .join(schema.channels, c.id == o.channel_id).order_by(o.placed_at.desc(), c.name, o.order_id))
    query = _order_filter(conn, query, channel, status)
    if limit is not None or offset:
        query = query.limit(limit).offset(offset)
    orders = conn.execute(query).all()
    if not orders:
        return []
    pks = [r.id for r in orders]
    lines = {r.order_pk: r for r in conn.execute(
        select(ol.order_pk, func.count().label("lines"), func.sum(ol.quantity).label("units"))
        .where(ol.order_pk.in_(pks)).group_by(ol.order_pk))}
    open_lines = dict(conn.execute(select(ol.order_pk, func.count()).where(ol.status == "open", ol.order_pk.in_(pks))
                                   .group_by(ol.order_pk)).all())
    moved = {r.order_pk: r for r in conn.execute(
        select(ol.order_pk, func.sum(a.units).label("taken"), func.sum(a.restored_units).label("restored"))
        .join(schema.order_lines, ol.id == a.order_line_id).where(ol.order_pk.in_(pks)).group_by(ol.order_pk))}
    result = []
    for r in orders:
        counts, units = lines.get(r.id), moved.get(r.id)
        result.append({
            "channel": r.name, "order_id": r.order_id, "placed_at": iso(r.placed_at), "status": r.status,
            "accepted_at": iso(r.accepted_at), "cancelled_at": iso(r.cancelled_at),
            "lines": counts.lines if counts else 0, "open_lines": open_lines.get(r.id, 0),
            "units": int(counts.units or 0) if counts else 0, "taken": int(units.taken or 0) if units else 0,
            "restored": int(units.restored or 0) if units else 0, "oversold": r.oversold,
        })
    return result


def explain_order(conn: Connection, channel: str, order_id: str) -> dict:
    """One order with its lines, where their units came from, and why each cancellation did or did not
    restore stock; `summary` says it in sentences."""
    ch = channel_row(conn, channel)
    order = find_order(conn, ch, order_id.strip(), lock=False)
    a, w = schema.allocations.c, schema.warehouses.c
    rows = order_lines(conn, order.id)
    parts: dict[int, list[dict]] = defaultdict(list)
    if rows:
        for r in conn.execute(select(a.order_line_id, w.code, a.units, a.restored_units)
                              .join(schema.warehouses, w.id == a.warehouse_id)
                              .where(a.order_line_id.in_([line.id for line in rows])).order_by(a.id)):
            parts[r.order_line_id].append({"warehouse": r.code, "units": r.units, "restored_units": r.restored_units})
    lines = []
    for line in rows:
        cancellation = None
        if line.status == "cancelled":
            cancellation = {"cancelled_at": iso(line.cancelled_at), "where": line.cancel_where,
                            "reason": line.cancel_reason, "by": line.cancel_by, "restore": line.restore,
                            "rule": line.restore_rule,
                            "reason_verdict": _verdict(ch.marketplace, line.restore_rule, line.cancel_reason),
                            "explanation": line.restore_explanation}
        lines.append({"line_id": line.line_id, "sku": line.sku, "quantity": line.quantity,
                      "oversold": line.oversold, "status": line.status, "allocations": parts[line.id],
                      "cancellation": cancellation})
    r = schema.refused_cancellations.c
    refused = [{"cancelled_at": iso(x.cancelled_at), "where": x.cancel_where, "reason": x.reason,
                "lines": json.loads(x.line_ids) if x.line_ids else None, "message": x.message,
                "recorded_at": iso(x.recorded_at)}
               for x in conn.execute(select(r.cancelled_at, r.cancel_where, r.reason, r.line_ids, r.message,
                                            r.recorded_at).where(r.order_pk == order.id).order_by(r.id))]
    explained = {"channel": ch.name, "marketplace": ch.marketplace, "restore_policy": ch.restore_policy,
                 "order_id": order.order_id, "placed_at": iso(order.placed_at), "status": order.status,
                 "accepted_at": iso(order.accepted_at), "cancelled_at": iso(order.cancelled_at),
                 "oversold": order.oversold, "lines": lines, "refused_cancellations": refused}
    explained["summary"] = _summary(explained)
    return explained


def _units(parts: list[dict], key: str) -> str:
    by_warehouse: dict[str, int] = defaultdict(int)
    for part in parts:
        by_warehouse[part["warehouse"]] += part[key]
    return ", ".join(f"{units} from {code}" if key == "units" else f"{units} to {code}"
                     for code, units in by_warehouse.items() if units)


def _summary(order: dict) -> list[str]:
    """One sentence for the order and one per line: what it took and what its cancellation did."""
    if order["accepted_at"] is None:
        head = (f"Order {order['order_id']} is {order['status']} and never took stock"
                + (": it takes stock once the marketplace reports it accepted." if order["status"] == "pending"
                   else "."))
    else:
        head = f"Order {order['order_id']} took stock when it was accepted at {order['accepted_at']}."
    sentences = [head]
    for line in order["lines"]:
        taken = _units(line["allocations"], "units")
        text = f"Line {line['line_id']} ({line['sku']} x {line['quantity']})"
        if order["accepted_at"] is not None:
            text += f": took {taken or 'nothing'}"
            if line["oversold"]:
                text += f", {line['oversold']} oversold"
        text += "."
        cancellation = line["cancellation"]
        if cancellation:
            restored = _units(line["allocations"], "restored_units")
            reason, explanation = cancellation["reason"], cancellation["explanation"]
            text += (f" Cancelled at {cancellation['cancelled_at']}"
                     + (f" (reason {reason!r})" if reason and repr(reason) not in explanation else "")
                     + f": {explanation}")
            if cancellation["restore"]:
                text += f" Given back: {restored or 'nothing (no units were taken)'}."
        sentences.append(text)
    for refused in order["refused_cancellations"]:
        which = f"lines {', '.join(refused['lines'])}" if refused["lines"] else "the whole order"
        sentences.append(f"A cancellation of {which} from the {refused['where']} was refused and the order "
                         f"kept as it was (received {refused['recorded_at']}): {refused['message']}.")
    return sentences
